"""The analyzer's cheap paths (privacy/analyzer.py and the recognizers): they skip work, never answers."""

from __future__ import annotations

import pytest

from jaju.korean import KoreanAnalyzer
from jaju.privacy.analyzer import Analyzer
from jaju.privacy.recognizers import PATTERN_RECOGNIZERS
from jaju.privacy.recognizers.person import PersonRecognizer


class CountingKorean:
    """The session's real Kiwi, with every text PERSON asks it about written down."""

    def __init__(self, korean: KoreanAnalyzer):
        self._korean = korean
        self.asked: list[str] = []

    def morphemes(self, text: str):
        self.asked.append(text)
        return self._korean.morphemes(text)


@pytest.fixture
def counted(korean: KoreanAnalyzer) -> tuple[Analyzer, CountingKorean]:
    kiwi = CountingKorean(korean)
    return Analyzer([cls() for cls in PATTERN_RECOGNIZERS] + [PersonRecognizer(kiwi)]), kiwi


def names(analyzer: Analyzer, text: str) -> list[str]:
    return [text[r.start:r.end] for r in analyzer.analyze(text) if r.entity_type == "PERSON"]


@pytest.mark.parametrize(("text", "expected"), [
    ("허준서님 전화번호가 010-8121-0882 맞나요?", ["허준서"]),       # name + 님
    ("성명 나혜석", ["나혜석"]),                                      # a label before the name
    ("우상호 과장님께 보고드렸습니다.", ["우상호"]),                   # a title after a space
])
def test_kiwi_is_not_asked_about_names_a_title_or_label_settled(counted, text: str, expected: list[str]) -> None:
    analyzer, kiwi = counted
    assert names(analyzer, text) == expected
    assert kiwi.asked == []


@pytest.mark.parametrize(("text", "expected"), [
    ("권나윤의 생일 파티는 토요일이야", ["권나윤"]),                   # a bare name: only Kiwi can tell
    ("허준서님한테 말했고 권나윤의 생일은 토요일이야", ["허준서", "권나윤"]),  # one settled, one not
])
def test_kiwi_still_decides_the_names_nothing_else_settled(counted, text: str, expected: list[str]) -> None:
    analyzer, kiwi = counted
    assert names(analyzer, text) == expected
    assert len(kiwi.asked) == 1 and "권나윤" in kiwi.asked[0] and "허준서" not in kiwi.asked[0]


def test_kiwi_is_not_asked_about_words_inside_an_address(counted) -> None:
    """경기도, 고양시 look like surname + given name; inside an address found with its context word they are not."""
    analyzer, kiwi = counted
    text = "배송지는 경기도 고양시 일산동구 중앙로 1275로 해주세요"
    found = [(r.entity_type, text[r.start:r.end]) for r in analyzer.analyze(text)]
    assert found == [("KR_ADDRESS", "경기도 고양시 일산동구 중앙로 1275")]
    assert kiwi.asked == []
    # Asked for PERSON alone, nothing else has claimed the address, so Kiwi decides (and finds no name).
    assert analyzer.analyze(text, entities=["PERSON"]) == []
    assert kiwi.asked


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("연락처 010–1234–5678로 주세요", "KR_PHONE", "010–1234–5678"),                 # en dashes
    ("رقم الهوية ٢١٢٣٤٥٦٧٨٨", "SA_NATIONAL_ID", "٢١٢٣٤٥٦٧٨٨"),                    # Arabic-Indic digits
    ("주민등록번호 900101−1234568", "KR_RRN", "900101−1234568"),                     # a minus sign
])
def test_text_that_needs_the_translation_table_still_gets_it(analyzer: Analyzer, text: str, entity: str,
                                                              value: str) -> None:
    found = [(r.entity_type, text[r.start:r.end]) for r in analyzer.analyze(text)]
    assert (entity, value) in found


@pytest.mark.parametrize("cls", PATTERN_RECOGNIZERS)
def test_digit_minimum_is_met_by_the_shortest_value_the_recognizer_takes(analyzer: Analyzer, cls) -> None:
    """A recognizer skips texts with fewer digits than `min_digits`; its shortest real value must not be one."""
    shortest = {
        "KR_RRN": "주민번호 900101-1234568", "KR_FRN": "외국인등록번호 900101-5234564",
        "KR_PASSPORT": "여권번호 M123A4567", "KR_DRIVER_LICENSE": "운전면허 서울 12-345678-90",
        "KR_BRN": "사업자등록번호 101-81-00001", "KR_CRN": "법인등록번호 110111-0000002",
        "KR_PHONE": "전화 02-123-4567", "KR_BANK_ACCOUNT": "계좌 1234-56-7890",
        "CREDIT_CARD": "카드번호 3782 822463 10005", "EMAIL": "메일 a@b.co",
        "IP_ADDRESS": "접속 IP 1.2.3.4", "KR_ADDRESS": "주소 강남구 역삼로 1",
        "IBAN": "IBAN GB82 WEST 1234 5698 7654 32", "SA_NATIONAL_ID": "iqama 1000000008",
    }[cls.entity]
    rec = next(r for r in analyzer.recognizers if isinstance(r, cls))
    found = [r for r in analyzer.analyze(shortest) if r.entity_type == cls.entity]
    assert found, (cls.entity, shortest)
    value = shortest[found[0].start:found[0].end]
    assert sum(c.isdigit() for c in value) >= rec.min_digits
