"""여권번호 (Korean passport number): old M12345678, new (since 2021) M123A4567."""

from __future__ import annotations

from jaju.privacy.recognizer import Pattern, PatternRecognizer


class KrPassportRecognizer(PatternRecognizer):
    """Korean passports: type letter (M, S, R, O, D, G), then 8 digits or 3 digits, a letter, 4 digits."""

    entity = "KR_PASSPORT"
    min_digits = 7  # 3 + 4 (new), 8 (old)
    patterns = (
        Pattern("passport_new", r"(?=[MSRODG])(?<![A-Za-z0-9])[MSRODG]\d{3}[A-Z]\d{4}(?![A-Za-z0-9])", 0.55),
        Pattern("passport_old", r"(?=[MSRODG])(?<![A-Za-z0-9])[MSRODG]\d{8}(?![A-Za-z0-9])", 0.4),
    )
    context = ("여권", "여권번호", "passport", "travel document", "출국", "입국", "비자", "visa")
    negative_context = ("주문번호", "모델명", "모델 번호", "품번", "제품번호", "상품코드", "order", "model", "sku")
