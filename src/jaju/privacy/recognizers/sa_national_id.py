"""Saudi national ID (هوية وطنية, starts with 1) and iqama (إقامة, starts with 2): 10 digits, Luhn."""

from __future__ import annotations

from jaju.privacy.recognizer import NUM_END, NUM_START, Pattern, PatternRecognizer, digits
from jaju.privacy.recognizers.credit_card import luhn_ok


class SaNationalIdRecognizer(PatternRecognizer):
    """Ten digits beginning 1 or 2 with a Luhn check digit; weak alone, strong beside a context word."""

    entity = "SA_NATIONAL_ID"
    min_digits = 10
    patterns = (
        Pattern("sa_id", NUM_START + r"[12]\d{9}" + NUM_END, 0.3),
    )
    context = ("사우디", "iqama", "이카마", "national id", "saudi", "id number", "الهوية", "هوية", "إقامة", "اقامة",
               "رقم الهوية", "신분증", "국민 id", "국민id", "신분번호")
    valid_score = 0.45

    def validate(self, value: str) -> bool | None:
        return luhn_ok(digits(value))
