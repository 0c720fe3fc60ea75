"""주민등록번호 (Korean resident registration number): YYMMDD-GXXXXXC."""

from __future__ import annotations

from datetime import date

from jaju.privacy.recognizer import NUM_END, NUM_START, SEP, Pattern, PatternRecognizer, digits

RRN_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
# October 2020: numbers issued since then carry random digits after G, so no checksum holds.
RANDOM_SINCE = date(2020, 10, 1)
_CENTURY = {"1": 1900, "2": 1900, "3": 2000, "4": 2000, "5": 1900, "6": 1900, "7": 2000, "8": 2000,
            "9": 1800, "0": 1800}


def birth_date(d: str, today: date | None = None) -> date | None:
    """The birth date encoded in a 13-digit RRN/FRN, or None when no such day exists (or is future)."""
    try:
        born = date(_CENTURY[d[6]] + int(d[0:2]), int(d[2:4]), int(d[4:6]))
    except ValueError:
        return None
    return None if born > (today or date.today()) else born


def rrn_checksum_ok(d: str) -> bool:
    """The pre-October-2020 check digit: C = (11 - sum mod 11) mod 10."""
    total = sum(int(c) * w for c, w in zip(d[:12], RRN_WEIGHTS, strict=True))
    return (11 - total % 11) % 10 == int(d[12])


def registration_score(value: str, base: float, valid_score: float, checksum_ok) -> float | None:
    """Shared by RRN and FRN: impossible dates drop the match, a failed checksum only lowers it."""
    d = digits(value)
    if len(d) != 13:
        return None
    # A bare 13-digit run is often an order or tracking number; the hyphen is the usual shape.
    base = base if "-" in value else base - 0.2
    born = birth_date(d)
    if born is None:
        return None
    if checksum_ok(d):
        return max(base, valid_score)
    # Random tail is normal for numbers issued since October 2020 (any birth date can be reissued).
    return base + 0.1 if born >= RANDOM_SINCE else base


class KrRrnRecognizer(PatternRecognizer):
    """Resident registration numbers; impossible dates are excluded, failed checksums only lower the score."""

    entity = "KR_RRN"
    patterns = (
        Pattern("rrn", NUM_START + r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])" + SEP + r"[1-490]\d{6}" + NUM_END,
                0.5),
    )
    context = ("주민등록번호", "주민번호", "주민등록", "주민", "생년월일", "본인확인", "신분증",
               "resident registration", "rrn", "jumin", "social security", "ssn")
    negative_context = ("주문번호", "주문 번호", "송장", "운송장", "접수번호", "예약번호", "법인등록번호",
                        "법인번호", "order", "tracking", "invoice")
    valid_score = 0.9
    min_digits = 13  # 6 + 7

    def score(self, value: str, base: float) -> float | None:
        return registration_score(value, base, self.valid_score, rrn_checksum_ok)
