"""One Kiwi for the Korean tests (it loads in about a second)."""

from __future__ import annotations

import pytest

from jaju.korean import KoreanAnalyzer


@pytest.fixture(scope="session")
def analyzer() -> KoreanAnalyzer:
    return KoreanAnalyzer()
