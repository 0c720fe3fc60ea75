"""One Kiwi instance per process, shared by privacy (names) and knowledge (BM25, sentences)."""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass

from kiwipiepy import Kiwi

# Sejong tags of content morphemes: nouns, verb and adjective stems, roots, foreign words, numbers.
CONTENT_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "NP", "VV", "VA", "XR", "SL", "SH", "SN", "W_SERIAL"})


@dataclass(frozen=True, slots=True)
class Morpheme:
    form: str
    tag: str
    start: int  # character offset in the analysed text
    length: int

    @property
    def end(self) -> int:
        return self.start + self.length


class KoreanAnalyzer:
    """Morphological analysis, sentence splitting and normalisation; build once, share everywhere."""

    def __init__(self, num_workers: int | None = None):
        # Kiwi loads its model (~1 s); a lock keeps single calls from racing on the same object.
        self._kiwi = Kiwi() if num_workers is None else Kiwi(num_workers=num_workers)
        self._lock = threading.Lock()

    def morphemes(self, text: str) -> list[Morpheme]:
        with self._lock:
            tokens = self._kiwi.tokenize(text)
        return [Morpheme(t.form, t.tag, t.start, t.len) for t in tokens]

    def morphemes_many(self, texts: list[str]) -> list[list[Morpheme]]:
        # Kiwi's batch call needs worker threads; without them it refuses, so analyse one by one.
        return [self.morphemes(t) for t in texts]

    def sentences(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, text) for each sentence, offsets into the given text."""
        with self._lock:
            sents = self._kiwi.split_into_sents(text)
        return [(s.start, s.end, s.text) for s in sents]

    def join(self, morphemes: list[tuple[str, str]]) -> str:
        """Morphemes (form, tag) back into text, allomorphs resolved (먹+ᆸ니다 -> 먹습니다); for speech levels."""
        with self._lock:
            return self._kiwi.join(morphemes)

    def content_terms(self, text: str) -> list[str]:
        """Content morphemes for indexing, lower-cased; particles and endings dropped."""
        return [m.form.lower() for m in self.morphemes(text) if m.tag in CONTENT_TAGS]


def normalize(text: str) -> str:
    """NFKC: full-width digits and letters become ASCII (０１０ -> 010); Hangul stays composed."""
    return unicodedata.normalize("NFKC", text)
