"""Token-budgeted chunks of Kiwi sentences with overlap; each keeps its headings and source span."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from jaju.knowledge.document import ParsedDocument, Section


class SentenceSplitter(Protocol):
    def sentences(self, text: str) -> list[tuple[int, int, str]]: ...


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable piece of a document; `start`/`end` index into ParsedDocument.text."""

    ordinal: int
    start: int
    end: int
    text: str
    headings: tuple[str, ...]
    page: int | None
    tokens: int

    def context(self, title: str) -> str:
        """The title and heading path that give this chunk its meaning, without repeating its first line."""
        parts = [title] if title else []
        parts += [h for h in self.headings if h != title and not self.text.startswith(h)]
        return " > ".join(parts)


def approx_tokens(text: str) -> int:
    """A model-free estimate: Korean runs about 1.5 characters per subword token."""
    return max(1, round(len(text) / 1.5))


class Chunker:
    """Packs sentences into chunks of at most `max_tokens`, repeating `overlap_tokens` between them."""

    def __init__(self, splitter: SentenceSplitter, count_tokens: Callable[[str], int] = approx_tokens,
                 max_tokens: int = 120, overlap_tokens: int = 24):
        if not 0 <= overlap_tokens < max_tokens:
            raise ValueError("overlap_tokens must be at least 0 and smaller than max_tokens")
        self._splitter = splitter
        self._count = count_tokens
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens

    def chunk(self, doc: ParsedDocument) -> list[Chunk]:
        chunks: list[Chunk] = []
        sections = doc.sections or [Section(0, len(doc.text))]
        for section in sections:
            units = self._units(doc.text, section)
            for start, end, tokens in self._pack(units):
                chunks.append(Chunk(len(chunks), start, end, doc.text[start:end], section.headings,
                                    section.page, tokens))
        return chunks

    def _units(self, text: str, section: Section) -> list[tuple[int, int, int]]:
        """(start, end, tokens) of each sentence in the section; paragraphs never share a sentence."""
        units: list[tuple[int, int, int]] = []
        pos = section.start
        for para in text[section.start:section.end].split("\n"):
            if para.strip():
                for s, e, _ in self._splitter.sentences(para):
                    units.extend(self._fit(text, pos + s, pos + e))
            pos += len(para) + 1
        return units

    def _fit(self, text: str, start: int, end: int) -> list[tuple[int, int, int]]:
        """A sentence longer than the budget is cut into equal character windows."""
        while start < end and text[start].isspace():
            start += 1
        if start >= end:
            return []
        tokens = self._count(text[start:end])
        if tokens <= self.max_tokens:
            return [(start, end, tokens)]
        pieces = -(-tokens // self.max_tokens) + 1
        step = -(-(end - start) // pieces)
        out = []
        for s in range(start, end, step):
            e = min(end, s + step)
            out.append((s, e, self._count(text[s:e])))
        return out

    def _pack(self, units: list[tuple[int, int, int]]):
        i, n = 0, len(units)
        while i < n:
            total, j = 0, i
            while j < n and (j == i or total + units[j][2] <= self.max_tokens):
                total += units[j][2]
                j += 1
            yield units[i][0], units[j - 1][1], total
            if j >= n:
                break
            # Step back over trailing sentences that fit in the overlap, always moving forward.
            back, k = 0, j
            while k - 1 > i and back + units[k - 1][2] <= self.overlap_tokens:
                k -= 1
                back += units[k][2]
            i = k
