"""Korean bank account numbers: many layouts, so only with a context word (계좌, a bank's name)."""

from __future__ import annotations

from jaju.privacy.recognizer import NUM_END, NUM_START, Pattern, PatternRecognizer, digits

_GROUP_SEP = r"[ \t]?-[ \t]?"


class KrBankAccountRecognizer(PatternRecognizer):
    """Digit groups joined by hyphens (or a bare 10-14 digit run) near a bank word."""

    entity = "KR_BANK_ACCOUNT"
    min_digits = 10  # score() wants 10 to 14 digits
    patterns = (
        Pattern("account_grouped", NUM_START + r"\d{2,6}(?:" + _GROUP_SEP + r"\d{2,7}){1,4}" + NUM_END, 0.5),
        Pattern("account_bare", NUM_START + r"\d{10,14}" + NUM_END, 0.45),
    )
    context = ("계좌", "계좌번호", "입금", "송금", "이체", "예금주", "통장", "환불", "은행", "뱅크", "국민", "신한",
               "우리", "하나", "농협", "기업", "카카오뱅크", "토스뱅크", "케이뱅크", "우체국", "새마을금고",
               "신협", "수협", "sc제일", "씨티", "산업은행", "부산은행", "대구은행", "경남은행", "광주은행",
               "전북은행", "제주은행", "account", "bank", "deposit", "wire")
    negative_context = ("주문번호", "송장", "운송장", "전화", "연락처", "휴대폰", "사업자", "order", "tracking", "phone")
    context_required = True

    def analyze(self, scan):
        # Without a bank word anywhere in the text nothing here can match; skip the digit patterns.
        if self._context is None or self._context.search(scan.lower) is None:
            return []
        return super().analyze(scan)

    def score(self, value: str, base: float) -> float | None:
        if not 10 <= len(digits(value)) <= 14:
            return None
        return base
