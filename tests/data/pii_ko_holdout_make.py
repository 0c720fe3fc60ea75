"""Writes pii_ko_holdout.jsonl: sentences, names and addresses the recognizers were never tuned on.

Reuses the number generators of pii_ko_generate.py with another seed; names and addresses are new.
Run `python tests/data/pii_ko_holdout_make.py`; the output is committed and scored, never tuned against.
"""

from __future__ import annotations

import json
from pathlib import Path

import pii_ko_generate as g

NAMES = ["방지웅", "염승아", "국태일", "변서율", "표은채", "왕지석", "맹수현", "탁효린", "설가온", "견우진", "봉하림",
         "육동건", "사공민혁", "독고영재", "함소윤", "석재희", "길보영", "위하준", "마은호", "피정란"]
ADDRS = ["서울특별시 노원구 동일로 1414", "경기도 용인시 수지구 포은대로 435", "부산광역시 사하구 낙동대로 398",
         "대전광역시 서구 둔산로 100", "전북특별자치도 전주시 완산구 효자로 225", "경상북도 포항시 남구 시청로 1",
         "서울 은평구 불광동 281-5", "충청남도 아산시 배방읍 장재리 1747", "인천광역시 부평구 부평대로 168, 2층",
         "강원특별자치도 원주시 단구동 1-2"]
TEMPLATES = [
    ("chat", "안녕하세요 {NAME}입니다~ 혹시 {MOBILE}로 다시 연락 가능할까요?"),
    ("chat", "택배가 {ADDR} 로 잘못 갔대요ㅠㅠ"),
    ("doc", "계약자 {NAME}(주민등록번호 {RRN})은 아래 조건에 동의한다."),
    ("chat", "{NAME} 님이 보내주신 서류 확인했습니다"),
    ("chat", "아 그 번호 {LAND_SEOUL} 말고 {MOBILE}로 해주세요"),
    ("doc", "위 사람 {NAME}은(는) 본 법인의 직원임을 증명합니다."),
    ("chat", "환불계좌: 기업은행 {ACCOUNT} / 예금주: {NAME}"),
    ("doc", "주소지: {ADDR}\n성명: {NAME}\n연락처: {MOBILE}"),
    ("chat", "카드 {CARD} 로 결제 안 되고 {BIZ_PHONE!}로 문의하래요"),
    ("chat", "제 메일이 {EMAIL} 인데 인증 메일이 안 와요"),
    ("doc", "피고 {NAME}은 원고에게 {AMOUNT!}을 지급하라."),
    ("chat", "우리 팀 {NAME} 책임님 여권번호 {PASS_NEW} 맞는지 봐주세요"),
    ("chat", "외국인 직원분 등록번호 {FRN} 로 4대보험 신고했어요"),
    ("doc", "{DATE!} {NAME} 외 2인이 현장을 방문하였다."),
    ("chat", "주문번호 {ORDER!}인데 아직도 배송 준비중이네요"),
    ("chat", "운전면허 번호 {DL} 로 본인인증 했는데 실패했대요"),
    ("doc", "거래처: 주식회사 다온, 사업자등록번호 {BRN}, 법인등록번호 {CRN}"),
    ("chat", "VPN 주소 {IPV4} 접속이 안 돼요"),
    ("chat", "{NAME}한테 {AMOUNT!} 빌려줬는데 아직 못 받았어"),
    ("doc", "발신: {NAME} ({EMAIL}), 수신: 총무팀"),
    ("chat", "Hi {EN_NAME}, your RRN {RRN} has been verified."),
    ("chat", "부모님 댁 주소가 {ADDR}예요"),
    ("doc", "보호자 {NAME} 님의 연락처는 {MOBILE_DOT}이다."),
    ("chat", "오늘 {NAME} 선배랑 점심 먹었어"),
    ("chat", "버전 {VERSION!} 에서 크래시 나요, 재현 경로 첨부합니다"),
]


def main() -> None:
    g.RNG.seed(99)
    g.NAMES[:] = NAMES
    g.ROAD_ADDR[:] = ADDRS
    g.LOT_ADDR[:] = ADDRS
    rows = []
    for i, (style, t) in enumerate(TEMPLATES):
        t = t.replace("{ADDR}", "{ADDR_ROAD}")
        for copy in range(2):
            text, spans = g.render(t)
            rows.append({"id": f"ho-{i:03d}-{copy}", "style": style, "text": text, "spans": spans})
    path = Path(__file__).parent / "pii_ko_holdout.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} sentences to {path}")


if __name__ == "__main__":
    main()
