"""외국인등록번호 (Korean foreign resident registration number): YYMMDD-GXXXXXC with G in 5-8."""

from __future__ import annotations

from jaju.privacy.recognizer import NUM_END, NUM_START, SEP, Pattern, PatternRecognizer
from jaju.privacy.recognizers.kr_rrn import RRN_WEIGHTS, registration_score


def frn_checksum_ok(d: str) -> bool:
    """The pre-October-2020 check digit for foreigners: C = (13 - sum mod 11) mod 10."""
    total = sum(int(c) * w for c, w in zip(d[:12], RRN_WEIGHTS, strict=True))
    return (13 - total % 11) % 10 == int(d[12])


class KrFrnRecognizer(PatternRecognizer):
    """Foreign resident numbers; same date rule as RRN, their own check digit."""

    entity = "KR_FRN"
    min_digits = 13  # 6 + 7
    patterns = (
        Pattern("frn", NUM_START + r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])" + SEP + r"[5-8]\d{6}" + NUM_END,
                0.5),
    )
    context = ("외국인등록번호", "외국인등록", "외국인 등록", "외국인번호", "등록번호", "외국인", "체류",
               "alien registration", "foreigner", "residence card", "arc", "frn")
    negative_context = ("주문번호", "송장", "운송장", "접수번호", "예약번호", "법인등록번호", "법인번호",
                        "order", "tracking", "invoice")

    def score(self, value: str, base: float) -> float | None:
        return registration_score(value, base, self.valid_score, frn_checksum_ok)
