"""Each recognizer on real Korean text: valid values, invalid checksums, near misses."""

from __future__ import annotations

import pytest

from jaju.privacy.analyzer import Analyzer
from jaju.privacy.recognizers.credit_card import luhn_ok
from jaju.privacy.recognizers.iban import iban_ok
from jaju.privacy.recognizers.kr_brn import brn_checksum_ok
from jaju.privacy.recognizers.kr_crn import crn_checksum_ok
from jaju.privacy.recognizers.kr_rrn import birth_date, rrn_checksum_ok

FOUND = [
    ("주민번호는 900101-1234568이에요", "KR_RRN", "900101-1234568"),
    ("주민등록번호 900101-1234561 입니다", "KR_RRN", "900101-1234561"),  # failed checksum, still an RRN
    ("주민등록번호: 211015-4123456", "KR_RRN", "211015-4123456"),  # issued after Oct 2020
    ("주민번호\n900101-\n1234568", "KR_RRN", "900101-\n1234568"),
    ("외국인등록번호 900101-5234564로 등록", "KR_FRN", "900101-5234564"),
    ("여권번호 M123A4567로 예약", "KR_PASSPORT", "M123A4567"),
    ("여권 번호 M12345678", "KR_PASSPORT", "M12345678"),
    ("운전면허 11-12-345678-90", "KR_DRIVER_LICENSE", "11-12-345678-90"),
    ("면허번호 서울 12-345678-90", "KR_DRIVER_LICENSE", "서울 12-345678-90"),
    ("사업자등록번호 220-81-62517", "KR_BRN", "220-81-62517"),
    ("법인등록번호 110111-0005078", "KR_CRN", "110111-0005078"),
    ("010-1234-5678로 연락 주세요", "KR_PHONE", "010-1234-5678"),
    ("번호 010.1234.5678", "KR_PHONE", "010.1234.5678"),
    ("폰 010 1234 5678 입니다", "KR_PHONE", "010 1234 5678"),
    ("전화번호 ０１０－１２３４－５６７８로 바꿨어요", "KR_PHONE", "０１０－１２３４－５６７８"),
    ("사무실 02-123-4567", "KR_PHONE", "02-123-4567"),
    ("지점 (031) 234-5678", "KR_PHONE", "(031) 234-5678"),
    ("인터넷전화 070-1234-5678", "KR_PHONE", "070-1234-5678"),
    ("Call +82 10-1234-5678", "KR_PHONE", "+82 10-1234-5678"),
    ("국민은행 123456-01-234567 계좌로", "KR_BANK_ACCOUNT", "123456-01-234567"),
    ("카드번호 4111-1111-1111-1111 결제", "CREDIT_CARD", "4111-1111-1111-1111"),
    ("메일 hong.gd@example.co.kr로 보내주세요", "EMAIL", "hong.gd@example.co.kr"),
    ("접속 IP 192.168.0.12에서", "IP_ADDRESS", "192.168.0.12"),
    ("서버 2001:db8::1 접속", "IP_ADDRESS", "2001:db8::1"),
    ("배송지는 서울특별시 강남구 테헤란로 152로 해주세요", "KR_ADDRESS", "서울특별시 강남구 테헤란로 152"),
    ("서울 종로구 청운동 123-4번지에 살아요", "KR_ADDRESS", "서울 종로구 청운동 123-4번지"),
    ("홍길동님의 주문", "PERSON", "홍길동"),
    ("김민수 고객님 안녕하세요", "PERSON", "김민수"),
    ("예금주 박새롬", "PERSON", "박새롬"),
    ("Please ask Mr. John Smith", "PERSON", "John Smith"),
    ("Contact Kim Min-su today", "PERSON", "Kim Min-su"),
    ("IBAN SA03 8000 0000 6080 1016 7519", "IBAN", "SA03 8000 0000 6080 1016 7519"),
    ("DE89370400440532013000 로 송금", "IBAN", "DE89370400440532013000"),
    ("iqama 2123456788", "SA_NATIONAL_ID", "2123456788"),
]

NOT_FOUND = [
    ("주민번호 901332-1234567", "KR_RRN"),  # no 13th month
    ("주민번호 300101-3234567", "KR_RRN"),  # born in 2030: not yet
    ("주문번호 2024051234567 배송 문의", "KR_RRN"),
    ("고객센터 1588-1234로 전화", "KR_PHONE"),
    ("대표번호 1577-1000", "KR_PHONE"),
    ("수신거부 080-123-4567", "KR_PHONE"),
    ("사업자등록번호 220-81-62518", "KR_BRN"),  # check digit wrong
    ("카드번호 4111-1111-1111-1112", "CREDIT_CARD"),  # Luhn fails
    ("123456-01-234567", "KR_BANK_ACCOUNT"),  # no bank word near it
    ("앱 버전 2.3.1로 업데이트", "IP_ADDRESS"),
    ("결제 금액 1,250,000원", "KR_BANK_ACCOUNT"),
    ("2024-05-01에 방문", "KR_PHONE"),
    ("IBAN SA03 8000 0000 6080 1016 7510", "IBAN"),  # mod 97 fails
    ("서울 강남구에 삽니다", "KR_ADDRESS"),  # a district is not an address
    ("이번 주에 정부 발표가 있대요", "PERSON"),
    ("고객님 감사합니다", "PERSON"),
    ("기사님 번호 알려주세요", "PERSON"),
]


@pytest.mark.parametrize(("text", "entity", "value"), FOUND)
def test_found(analyzer: Analyzer, text: str, entity: str, value: str) -> None:
    got = [(r.entity_type, text[r.start:r.end]) for r in analyzer.analyze(text)]
    assert (entity, value) in got


@pytest.mark.parametrize(("text", "entity"), NOT_FOUND)
def test_not_found(analyzer: Analyzer, text: str, entity: str) -> None:
    assert entity not in {r.entity_type for r in analyzer.analyze(text)}


def test_failed_rrn_checksum_scores_lower(analyzer: Analyzer) -> None:
    valid = analyzer.analyze("900101-1234568", score_threshold=0.0)
    invalid = analyzer.analyze("900101-1234561", score_threshold=0.0)
    assert valid[0].score > invalid[0].score >= 0.5


@pytest.mark.parametrize(("digits", "ok"), [("9001011234568", True), ("9001011234561", False)])
def test_rrn_checksum(digits: str, ok: bool) -> None:
    assert rrn_checksum_ok(digits) is ok


@pytest.mark.parametrize(("digits", "valid_date"), [("9002291234567", False), ("0002293234567", True),
                                                    ("9913011234567", False), ("0101019234567", True)])
def test_rrn_birth_date(digits: str, valid_date: bool) -> None:
    assert (birth_date(digits) is not None) is valid_date


@pytest.mark.parametrize(("fn", "value", "ok"), [
    (brn_checksum_ok, "2208162517", True), (brn_checksum_ok, "2208162518", False),
    (crn_checksum_ok, "1101110005078", True), (crn_checksum_ok, "1101110005079", False),
    (luhn_ok, "4111111111111111", True), (luhn_ok, "4111111111111112", False),
    (iban_ok, "GB82WEST12345698765432", True), (iban_ok, "GB82WEST12345698765433", False),
])
def test_checksums(fn, value: str, ok: bool) -> None:
    assert fn(value) is ok


def test_offsets_are_in_original_text(analyzer: Analyzer) -> None:
    text = "전화 ０１０－１２３４－５６７８로, 메일 ａ@example.com"
    r = analyzer.analyze(text)[0]
    assert text[r.start:r.end] == "０１０－１２３４－５６７８"


def test_overlap_keeps_highest_score(analyzer: Analyzer) -> None:
    text = "카드번호 4111 1111 1111 1111 결제"
    assert [r.entity_type for r in analyzer.analyze(text)] == ["CREDIT_CARD"]
