"""One Kiwi, the real privacy analyzer and one ModerationService for the moderation tests."""

from __future__ import annotations

import pytest

from jaju.korean import KoreanAnalyzer
from jaju.moderation.service import ModerationService
from jaju.privacy.factory import build_analyzer


@pytest.fixture(scope="session")
def korean() -> KoreanAnalyzer:
    k = KoreanAnalyzer()
    k.morphemes("준비")  # the first call pays Kiwi's warm-up
    return k


@pytest.fixture(scope="session")
def moderation(korean: KoreanAnalyzer) -> ModerationService:
    return ModerationService(korean, build_analyzer(korean))
