"""E-mail addresses."""

from __future__ import annotations

from jaju.privacy.recognizer import Pattern, PatternRecognizer, Scan


class EmailRecognizer(PatternRecognizer):
    """RFC 5322's common subset: dot-atoms, a domain with a letter TLD (Korean particles stop the match)."""

    entity = "EMAIL"
    patterns = (
        Pattern("email", r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
                r"[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])", 0.9),
    )
    context = ("메일", "이메일", "email", "e-mail", "mail", "연락")
    min_digits = 0

    def analyze(self, scan: Scan):
        return super().analyze(scan) if scan.has_at else []

    def validate(self, value: str) -> bool | None:
        local = value.split("@", 1)[0]
        return not (local.startswith(".") or local.endswith(".") or ".." in value)
