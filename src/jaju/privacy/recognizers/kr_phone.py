"""Korean phone numbers: mobile, Seoul and regional landlines, 070 internet phones, +82 forms."""

from __future__ import annotations

from jaju.privacy.recognizer import NUM_END, NUM_START, SEP, Pattern, PatternRecognizer, digits

# Area codes after the leading 0: Seoul 2, regions 31-33, 41-44, 51-55, 61-64; 70 internet phones.
_AREA = r"(?:2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70)"
_MOBILE = r"1[016789]"
_LOCAL = r"\d{3,4}" + SEP + r"\d{4}"


class KrPhoneRecognizer(PatternRecognizer):
    """Personal phone numbers. 15xx/16xx/18xx business numbers and 080 toll-free lines are not matched."""

    entity = "KR_PHONE"
    min_digits = 9  # score() wants 9 to 11 digits
    patterns = (
        Pattern("mobile", NUM_START + r"0" + _MOBILE + SEP + _LOCAL + NUM_END, 0.7),
        Pattern("landline", NUM_START + r"(?:\(0" + _AREA + r"\)[ \t]?|0" + _AREA + SEP + r")" + _LOCAL + NUM_END,
                0.6),
        Pattern("international", r"\+82[ \t]?(?:\(0\)[ \t]?)?-?[ \t]?0?(?:" + _MOBILE + "|" + _AREA + ")"
                + SEP + _LOCAL + NUM_END, 0.75),
    )
    context = ("전화", "전화번호", "연락처", "휴대폰", "핸드폰", "휴대전화", "폰번호", "번호로", "연락", "문자",
               "phone", "mobile", "tel", "cell", "contact", "call")
    negative_context = ("계좌", "계좌번호", "주문번호", "송장", "account")

    def score(self, value: str, base: float) -> float | None:
        d = digits(value)
        if d.startswith("82"):
            d = "0" + d[2:].removeprefix("0")
        if not 9 <= len(d) <= 11:
            return None
        # Unseparated digits are weaker evidence than the printed 3-4-4 shape.
        has_sep = any(not c.isdigit() for c in value.strip("+"))
        return base if has_sep else base - 0.1
