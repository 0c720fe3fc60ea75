"""Korean prompts for the sampling benchmarks: 50 topics x 5 question forms = 250 distinct prompts."""

from __future__ import annotations

TOPICS = [
    "서울의 대표적인 관광지", "김치 담그는 방법", "한국의 사계절", "조선 시대의 과거 제도", "부산의 유명한 음식",
    "제주도 여행 일정", "한글 창제의 역사", "태권도의 기본 동작", "한국의 대학 입시", "지하철 환승 방법",
    "전세와 월세의 차이", "추석에 하는 일", "설날 세배 예절", "한국 전통 혼례", "경주의 문화재",
    "한강 공원에서 할 수 있는 일", "국민건강보험 제도", "주민등록증 재발급 절차", "분리수거 규칙", "온돌 난방의 원리",
    "한복의 구성", "판소리와 민요", "세종대왕의 업적", "이순신 장군의 해전", "독도의 자연환경",
    "한국 커피 문화", "편의점 도시락", "케이팝 산업", "한국 드라마의 인기", "PC방 문화",
    "떡볶이 만드는 법", "비빔밥 재료", "삼계탕과 복날", "한국의 미세먼지 대책", "출산율 감소 문제",
    "고령화 사회 대책", "전기차 충전 방법", "택배 반품 절차", "건강검진 준비", "운전면허 시험 과정",
    "도서관 이용 방법", "등산할 때 주의할 점", "장마철 건강 관리", "겨울철 난방비 절약", "재택근무의 장단점",
    "초등학생 영어 교육", "개인정보 보호법", "인공지능 윤리", "한국어 존댓말", "전통 시장 장보기",
]

FORMS = [
    "{}에 대해 자세히 설명해 주세요.",
    "{}에 관해 세 가지를 알려 주세요.",
    "{}에 대한 짧은 글을 써 주세요.",
    "{}의 장점과 주의할 점은 무엇인가요?",
    "{}에 대해 초등학생에게 설명하듯이 말해 주세요.",
]


def prompts(n: int) -> list[str]:
    """The first n prompts, varying the topic fastest so every slice covers many topics."""
    out = [form.format(topic) for form in FORMS for topic in TOPICS]
    if n > len(out):
        raise ValueError(f"only {len(out)} prompts")
    return out[:n]
