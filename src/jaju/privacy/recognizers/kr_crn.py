"""법인등록번호 (Korean corporation registration number): XXXXXX-XXXXXXX with a check digit."""

from __future__ import annotations

from jaju.privacy.recognizer import NUM_END, NUM_START, SEP, Pattern, PatternRecognizer, digits


def crn_checksum_ok(d: str) -> bool:
    """Weights 1,2,1,2,... on the first 12 digits; check = (10 - sum mod 10) mod 10."""
    total = sum(int(c) * (1 if i % 2 == 0 else 2) for i, c in enumerate(d[:12]))
    return (10 - total % 10) % 10 == int(d[12])


class KrCrnRecognizer(PatternRecognizer):
    """Corporation numbers share the RRN's 6-7 shape, so they lean on their checksum and context words."""

    entity = "KR_CRN"
    min_digits = 13  # 6 + 7
    patterns = (
        Pattern("crn", NUM_START + r"\d{6}" + SEP + r"\d{7}" + NUM_END, 0.3),
    )
    context = ("법인등록번호", "법인번호", "법인 등록번호", "법인", "주식회사", "(주)", "corporate registration",
               "corporation number", "company registration")
    negative_context = ("주민등록번호", "주민번호", "주문번호", "송장")
    valid_score = 0.45

    def validate(self, value: str) -> bool | None:
        d = digits(value)
        return len(d) == 13 and crn_checksum_ok(d)
