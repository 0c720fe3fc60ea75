"""Payment card numbers (13-19 digits) that pass the Luhn check."""

from __future__ import annotations

from jaju.privacy.recognizer import NUM_END, NUM_START, Pattern, PatternRecognizer, digits

_S = r"[ \t]?-?[ \t]?"


def luhn_ok(d: str) -> bool:
    """The Luhn mod-10 check over a digit string."""
    total = 0
    for i, c in enumerate(reversed(d)):
        n = int(c)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


class CreditCardRecognizer(PatternRecognizer):
    """Visa, Mastercard, Amex, JCB, UnionPay, BC and domestic cards in 4-4-4-4 (or Amex 4-6-5) shape."""

    entity = "CREDIT_CARD"
    min_digits = 15  # Amex 4 + 6 + 5; the others 16 or 19
    patterns = (
        Pattern("card_16", NUM_START + r"[2-69]\d{3}(?:" + _S + r"\d{4}){3}" + NUM_END, 0.6),
        Pattern("card_amex", NUM_START + r"3[47]\d{2}" + _S + r"\d{6}" + _S + r"\d{5}" + NUM_END, 0.6),
        Pattern("card_19", NUM_START + r"6\d{3}(?:" + _S + r"\d{4}){3}" + _S + r"\d{3}" + NUM_END, 0.5),
    )
    context = ("카드", "카드번호", "신용카드", "체크카드", "결제", "할부", "card", "credit", "visa", "mastercard",
               "amex", "payment")
    valid_score = 0.9

    def validate(self, value: str) -> bool | None:
        return luhn_ok(digits(value))
