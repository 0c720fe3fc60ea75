"""Constructors the app factory and the CLI call; nothing here runs at import time."""

from __future__ import annotations

from pathlib import Path

from jaju.korean import KoreanAnalyzer
from jaju.privacy.analyzer import Analyzer
from jaju.privacy.hashing import TenantHasher
from jaju.privacy.recognizers import builtin_recognizers
from jaju.privacy.service import PrivacyService
from jaju.privacy.vault import Cipher, PseudonymVault
from jaju.store.db import Database


def build_analyzer(korean: KoreanAnalyzer | None) -> Analyzer:
    """Every built-in recognizer; PERSON confirms Korean names with Kiwi when `korean` is given."""
    return Analyzer(builtin_recognizers(korean))


def build_privacy_service(db: Database, korean: KoreanAnalyzer | None, keys_dir: Path, cipher: Cipher) -> PrivacyService:
    """The PrivacyService with its vault encrypted through `cipher` (the KeyService)."""
    hasher = TenantHasher.load_or_create(keys_dir)
    return PrivacyService(build_analyzer(korean), PseudonymVault(db, cipher, hasher), hasher)
