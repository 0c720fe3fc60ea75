"""사업자등록번호 (Korean business registration number): XXX-XX-XXXXX with a check digit."""

from __future__ import annotations

from jaju.privacy.recognizer import NUM_END, NUM_START, SEP, Pattern, PatternRecognizer, digits

BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def brn_checksum_ok(d: str) -> bool:
    """Weights 1,3,7,1,3,7,1,3,5, plus floor(9th digit * 5 / 10); check = (10 - sum mod 10) mod 10."""
    total = sum(int(c) * w for c, w in zip(d[:9], BRN_WEIGHTS, strict=True)) + int(d[8]) * 5 // 10
    return (10 - total % 10) % 10 == int(d[9])


class KrBrnRecognizer(PatternRecognizer):
    """Business registration numbers; a failed check digit means it is not one."""

    entity = "KR_BRN"
    min_digits = 10  # 3 + 2 + 5
    patterns = (
        Pattern("brn", NUM_START + r"\d{3}" + SEP + r"\d{2}" + SEP + r"\d{5}" + NUM_END, 0.5),
    )
    context = ("사업자등록번호", "사업자번호", "사업자 등록번호", "사업자", "등록번호", "business registration",
               "brn", "tax id", "vat")
    valid_score = 0.8

    def score(self, value: str, base: float) -> float | None:
        d = digits(value)
        if len(d) != 10 or not brn_checksum_ok(d):
            return None
        # Ten bare digits pass the check one time in ten; the 3-2-5 hyphen shape is the real signal.
        return self.valid_score if value.count("-") == 2 else 0.35
