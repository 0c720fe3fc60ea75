"""Korean language helpers built on Kiwi."""

from jaju.korean.analyzer import KoreanAnalyzer, Morpheme

__all__ = ["KoreanAnalyzer", "Morpheme"]
