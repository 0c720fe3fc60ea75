"""Writes tests/data/pii_ko.jsonl: Korean sentences written for jaju, numbers generated with known checksums.

Run `python tests/data/pii_ko_generate.py` to regenerate; the output is committed so tests never depend
on this script's randomness. Slots in braces become values; slots ending in `!` are near misses that
are not personal data (no gold span).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

RNG = random.Random(20260414)
HERE = Path(__file__).parent

# ---------------------------------------------------------------- numbers with known checksums
W_RRN = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def _date6(year_lo=1950, year_hi=2019):
    y = RNG.randint(year_lo, year_hi)
    m = RNG.randint(1, 12)
    d = RNG.randint(1, 28)
    return y, f"{y % 100:02d}{m:02d}{d:02d}"


def rrn(valid=True, sep="-", foreign=False):
    y, d6 = _date6()
    g = (5 if y < 2000 else 7) if foreign else (1 if y < 2000 else 3)
    g += RNG.randint(0, 1)
    body = d6 + str(g) + "".join(str(RNG.randint(0, 9)) for _ in range(5))
    total = sum(int(c) * w for c, w in zip(body, W_RRN))
    check = ((13 if foreign else 11) - total % 11) % 10
    if not valid:
        check = (check + RNG.randint(1, 9)) % 10
    s = body + str(check)
    return s[:6] + sep + s[6:]


def rrn_bad_date():
    return f"{RNG.randint(50, 99)}{RNG.choice(['13', '14', '00', '02'])}{RNG.choice(['31', '30', '32'])}-" \
           f"{RNG.randint(1, 2)}{RNG.randint(100000, 999999)}"


def brn(valid=True):
    w = (1, 3, 7, 1, 3, 7, 1, 3, 5)
    while True:
        b = f"{RNG.randint(101, 899)}{RNG.choice(['81', '86', '87', '01', '05', '11', '23'])}{RNG.randint(1000, 9999)}"
        total = sum(int(c) * x for c, x in zip(b, w)) + int(b[8]) * 5 // 10
        c = (10 - total % 10) % 10
        if not valid:
            c = (c + RNG.randint(1, 9)) % 10
        s = b + str(c)
        return f"{s[:3]}-{s[3:5]}-{s[5:]}"


def crn():
    b = RNG.choice(["1101", "1201", "1301", "1345", "2841", "1601"]) + RNG.choice(["11", "71", "35"]) + \
        "".join(str(RNG.randint(0, 9)) for _ in range(6))
    total = sum(int(c) * (1 if i % 2 == 0 else 2) for i, c in enumerate(b))
    s = b + str((10 - total % 10) % 10)
    return s[:6] + "-" + s[6:]


def luhn_complete(prefix, length):
    body = prefix + "".join(str(RNG.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    for c in "0123456789":
        if _luhn(body + c):
            return body + c
    raise AssertionError


def _luhn(d):
    total = 0
    for i, c in enumerate(reversed(d)):
        n = int(c)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def card(valid=True):
    d = luhn_complete(RNG.choice(["4", "51", "53", "9410", "3560", "6243"]), 16)
    if not valid:
        d = d[:-1] + str((int(d[-1]) + RNG.randint(1, 9)) % 10)
    sep = RNG.choice(["-", "-", " ", ""])
    return sep.join(d[i:i + 4] for i in range(0, 16, 4))


def said():
    return luhn_complete(RNG.choice(["1", "2"]), 10)


def iban(valid=True):
    country, n = RNG.choice([("SA", 20), ("DE", 18), ("GB", 18), ("FR", 23)])
    if country == "GB":
        bban = "NWBK" + "".join(str(RNG.randint(0, 9)) for _ in range(14))
    else:
        bban = "".join(str(RNG.randint(0, 9)) for _ in range(n))
    num = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    check = 98 - num % 97
    if not valid:
        check = (check + RNG.randint(1, 50)) % 97 + 2
    s = f"{country}{check:02d}{bban}"
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4)) if RNG.random() < 0.6 else s


def digits(n):
    return "".join(str(RNG.randint(0, 9)) for _ in range(n))


def mobile(sep="-"):
    return f"010{sep}{RNG.randint(2000, 9999)}{sep}{digits(4)}"


FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")

NAMES = ["김민수", "이영희", "박서준", "최유나", "정도윤", "강시우", "윤지호", "장하은", "임채원", "한예린", "오지안",
         "서이안", "신유찬", "권나윤", "황민재", "송다인", "홍길동", "조현우", "배수지", "문재원", "양희경", "손보미",
         "전혜진", "고은비", "남궁현우", "제갈윤", "선우진", "유재석", "안소희", "노태현", "하지원", "곽도현", "성유리",
         "차은우", "주영훈", "우상호", "구하라", "민경훈", "진세연", "나혜석", "엄정화", "채시라", "원빈우", "천우희",
         "백승호", "허준서", "심은경", "류수영", "김하윤", "이건", "박솔", "최강", "정다솜", "김태리", "이슬기", "박새롬",
         "윤슬", "강하람", "임윤아", "한가람"]
EN_NAMES = ["Kim Min-su", "Lee Young-hee", "Park Seo-jun", "Choi Yu-na", "Jung Do-yoon", "Min-jun Kang",
            "Ji-ho Yoon", "Hong Gil-dong"]
# Titled names: the title is not part of the gold span.
EN_TITLED = [("Mr. ", "David Miller"), ("Ms. ", "Sarah Johnson"), ("Dr. ", "Emily Clark"), ("Mrs. ", "Anna Schmidt"),
             ("Mr. ", "Park"), ("Prof. ", "Lee Jae-won")]
ROAD_ADDR = ["서울특별시 강남구 테헤란로 152", "서울특별시 마포구 월드컵북로 396", "경기도 성남시 분당구 판교역로 235",
             "부산광역시 해운대구 센텀중앙로 79", "서울 종로구 세종대로 209", "인천광역시 연수구 송도과학로 32",
             "대전광역시 유성구 대학로 99", "서울특별시 성동구 성수이로7길 21", "광주광역시 북구 용봉로 77",
             "경기도 수원시 영통구 광교중앙로 145", "대구광역시 수성구 동대구로 364", "제주특별자치도 제주시 첨단로 242",
             "서울 강남구 강남대로94길 13", "울산광역시 남구 삼산로 283", "경상남도 창원시 의창구 중앙대로 151",
             "서울특별시 송파구 올림픽로 300, 101동 1502호", "경기도 고양시 일산동구 중앙로 1275, 3층",
             "세종특별자치시 한누리대로 2130", "강원특별자치도 춘천시 중앙로 1", "충청북도 청주시 상당구 상당로 82"]
LOT_ADDR = ["서울특별시 종로구 청운동 123-4", "경기도 양평군 양서면 용담리 123-45", "서울 관악구 신림동 1423-7",
            "부산광역시 중구 남포동 2가 17-1", "서울특별시 강남구 역삼동 736-1", "전라남도 순천시 조례동 1591번지",
            "경상북도 경주시 양남면 수렴리 55-2", "충청남도 천안시 동남구 신부동 454-3", "서울 마포구 서교동 395-166",
            "제주특별자치도 서귀포시 안덕면 사계리 1234"]


def fill(slot: str) -> tuple:
    """(value, entity or None), or (unlabelled prefix, value, entity), for one slot name."""
    table = {
        "RRN": lambda: (rrn(), "KR_RRN"),
        "RRN_BADSUM": lambda: (rrn(valid=False), "KR_RRN"),
        "RRN_NOSEP": lambda: (rrn(sep=""), "KR_RRN"),
        "RRN_SPACE": lambda: (rrn(sep=" "), "KR_RRN"),
        "RRN_NL": lambda: (rrn(sep="-\n"), "KR_RRN"),
        "RRN_BADDATE!": lambda: (rrn_bad_date(), None),
        "FRN": lambda: (rrn(foreign=True), "KR_FRN"),
        "PASS_OLD": lambda: (RNG.choice("MS") + digits(8), "KR_PASSPORT"),
        "PASS_NEW": lambda: (RNG.choice("MS") + digits(3) + RNG.choice("ABCDEFGHJK") + digits(4), "KR_PASSPORT"),
        "DL": lambda: (f"{RNG.choice(['11', '12', '13', '21', '23', '25', '28'])}-{digits(2)}-{digits(6)}-{digits(2)}",
                       "KR_DRIVER_LICENSE"),
        "DL_NAME": lambda: (f"{RNG.choice(['서울', '경기', '부산', '대구'])} {digits(2)}-{digits(6)}-{digits(2)}",
                            "KR_DRIVER_LICENSE"),
        "BRN": lambda: (brn(), "KR_BRN"),
        "BRN_BAD!": lambda: (brn(valid=False), None),
        "CRN": lambda: (crn(), "KR_CRN"),
        "MOBILE": lambda: (mobile(), "KR_PHONE"),
        "MOBILE_DOT": lambda: (mobile("."), "KR_PHONE"),
        "MOBILE_SPACE": lambda: (mobile(" "), "KR_PHONE"),
        "MOBILE_BARE": lambda: (mobile(""), "KR_PHONE"),
        "MOBILE_FW": lambda: (mobile().translate(FULLWIDTH), "KR_PHONE"),
        "MOBILE_NL": lambda: (f"010-{RNG.randint(2000, 9999)}-\n{digits(4)}", "KR_PHONE"),
        "LAND_SEOUL": lambda: (f"02-{RNG.randint(200, 9999)}-{digits(4)}", "KR_PHONE"),
        "LAND_REGION": lambda: (f"0{RNG.choice(['31', '32', '42', '51', '53', '62', '64'])}-{RNG.randint(200, 999)}-"
                                f"{digits(4)}", "KR_PHONE"),
        "VOIP": lambda: (f"070-{RNG.randint(2000, 8999)}-{digits(4)}", "KR_PHONE"),
        "INTL": lambda: (f"+82 10-{RNG.randint(2000, 9999)}-{digits(4)}", "KR_PHONE"),
        "BIZ_PHONE!": lambda: (f"{RNG.choice(['1588', '1577', '1544', '1661', '1899', '1600'])}-{digits(4)}", None),
        "TOLLFREE!": lambda: (f"080-{RNG.randint(200, 999)}-{digits(4)}", None),
        "ACCOUNT": lambda: (RNG.choice([f"{digits(6)}-{digits(2)}-{digits(6)}", f"{digits(3)}-{digits(6)}-{digits(2)}-{digits(3)}",
                                        f"{digits(3)}-{digits(2)}-{digits(6)}", f"3333-{digits(2)}-{digits(7)}",
                                        f"1002-{digits(3)}-{digits(6)}"]), "KR_BANK_ACCOUNT"),
        "CARD": lambda: (card(), "CREDIT_CARD"),
        "CARD_BAD!": lambda: (card(valid=False), None),
        "EMAIL": lambda: (RNG.choice(["minsu.kim", "yh_lee", "seojun92", "jaju.support", "hong-gd", "yuna.choi",
                                      "dr.kang", "park.sj"]) + "@" +
                          RNG.choice(["example.com", "naver.com", "gmail.com", "company.co.kr", "hospital.or.kr",
                                      "univ.ac.kr"]), "EMAIL"),
        "IPV4": lambda: (RNG.choice([f"192.168.{RNG.randint(0, 255)}.{RNG.randint(1, 254)}",
                                     f"10.{RNG.randint(0, 255)}.{RNG.randint(0, 255)}.{RNG.randint(1, 254)}",
                                     f"{RNG.randint(11, 223)}.{RNG.randint(0, 255)}.{RNG.randint(0, 255)}.{RNG.randint(1, 254)}"]),
                         "IP_ADDRESS"),
        "IPV6": lambda: (f"2001:db8:{RNG.randint(0, 0xffff):x}::{RNG.randint(1, 0xffff):x}", "IP_ADDRESS"),
        "VERSION!": lambda: (f"{RNG.randint(1, 5)}.{RNG.randint(0, 20)}.{RNG.randint(0, 9)}", None),
        "ADDR_ROAD": lambda: (RNG.choice(ROAD_ADDR), "KR_ADDRESS"),
        "ADDR_LOT": lambda: (RNG.choice(LOT_ADDR), "KR_ADDRESS"),
        "NAME": lambda: (RNG.choice(NAMES), "PERSON"),
        "EN_NAME": lambda: (RNG.choice(EN_NAMES), "PERSON") if RNG.random() < 0.6 else RNG.choice(EN_TITLED) + ("PERSON",),
        "IBAN": lambda: (iban(), "IBAN"),
        "IBAN_BAD!": lambda: (iban(valid=False), None),
        "SAID": lambda: (said(), "SA_NATIONAL_ID"),
        "ORDER!": lambda: (f"{RNG.randint(2023, 2025)}{RNG.randint(1, 12):02d}{RNG.randint(1, 28):02d}{digits(5)}"
                           if RNG.random() < 0.5 else f"{RNG.randint(2023, 2025)}{RNG.randint(1, 12):02d}{RNG.randint(1, 28):02d}-{digits(7)}", None),
        "DATE!": lambda: (RNG.choice([f"{RNG.randint(2020, 2026)}-{RNG.randint(1, 12):02d}-{RNG.randint(1, 28):02d}",
                                      f"{RNG.randint(2020, 2026)}.{RNG.randint(1, 12):02d}.{RNG.randint(1, 28):02d}",
                                      f"{RNG.randint(2020, 2026)}년 {RNG.randint(1, 12)}월 {RNG.randint(1, 28)}일"]), None),
        "AMOUNT!": lambda: (RNG.choice([f"{RNG.randint(1, 999)},{RNG.randint(0, 999):03d},000원",
                                        f"{RNG.randint(10000, 9999999)}원", f"{RNG.randint(1, 99)}만 원"]), None),
        "TRACK!": lambda: (digits(12) if RNG.random() < 0.5 else f"{digits(4)}-{digits(4)}-{digits(4)}", None),
    }
    return table[slot]()


_SLOT = re.compile(r"\{([A-Z_0-9]+!?)\}")


def render(template: str) -> tuple[str, list[dict]]:
    out, spans, pos = [], [], 0
    for m in _SLOT.finditer(template):
        out.append(template[pos:m.start()])
        filled = fill(m.group(1))
        prefix, value, entity = ("", *filled) if len(filled) == 2 else filled
        start = sum(len(p) for p in out) + len(prefix)
        out.append(prefix + value)
        if entity:
            spans.append({"start": start, "end": start + len(value), "entity": entity})
        pos = m.end()
    out.append(template[pos:])
    return "".join(out), spans


def main() -> None:
    from pii_ko_templates import TEMPLATES  # noqa: PLC0415  (sibling file, only needed here)
    rows = []
    for i, (style, template) in enumerate(TEMPLATES):
        for copy in range(2):
            text, spans = render(template)
            rows.append({"id": f"ko-{i:03d}-{copy}", "style": style, "text": text, "spans": spans})
    path = HERE / "pii_ko.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} sentences to {path}")


if __name__ == "__main__":
    main()
