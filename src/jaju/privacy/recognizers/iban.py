"""International Bank Account Numbers, checked with ISO 13616 mod 97."""

from __future__ import annotations

from jaju.privacy.recognizer import Pattern, PatternRecognizer

# Lengths for the countries jaju's tenants meet most; other countries need only the mod-97 check.
IBAN_LENGTHS = {"SA": 24, "DE": 22, "FR": 27, "GB": 22, "NL": 18, "ES": 24, "IT": 27, "BE": 16, "AT": 20,
                "CH": 21, "AE": 23, "QA": 29, "KW": 30, "BH": 22, "IE": 22, "PL": 28, "SE": 24, "DK": 18,
                "FI": 18, "NO": 15, "PT": 25, "LU": 20}


def iban_ok(compact: str) -> bool:
    """Country length (where known) and mod 97 == 1 after moving the first four characters to the end."""
    if IBAN_LENGTHS.get(compact[:2], len(compact)) != len(compact) or not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


class IbanRecognizer(PatternRecognizer):
    """IBANs written compact or in groups of four."""

    entity = "IBAN"
    min_digits = 2  # the check digits
    patterns = (
        Pattern("iban", r"(?=[A-Z])(?<![A-Za-z0-9])"
                r"[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?(?![A-Za-z0-9])",
                0.5),
    )
    context = ("iban", "계좌", "송금", "해외송금", "bank", "account", "wire", "transfer", "حساب", "آيبان")
    valid_score = 0.95

    def validate(self, value: str) -> bool | None:
        return iban_ok(value.replace(" ", "").upper())
