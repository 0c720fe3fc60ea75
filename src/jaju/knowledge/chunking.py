"""Token-budgeted chunks that follow the document's outline; each keeps its headings and source span.

Numbered structure comes first (jaju.knowledge.structure): an article (제N조) that fits the budget is one
chunk, small neighbours share one, and a long one is split at 항 (then 호) boundaries with its lead line
carried as a heading. Text without numbering, and any single part longer than the budget, falls back to
Kiwi sentences packed up to the budget with overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from jaju.knowledge.document import ParsedDocument, Section
from jaju.knowledge.structure import Block, lead_line, outline


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


Piece = tuple[int, int, int, tuple[str, ...]]  # start, end, tokens, headings carried from split parents


class Chunker:
    """Sentence windows of at most `max_tokens` overlapping by `overlap_tokens`; numbered blocks packed
    up to `block_tokens` (defaults to `max_tokens`), without overlap since their boundaries are real."""

    def __init__(self, splitter: SentenceSplitter, count_tokens: Callable[[str], int] = approx_tokens,
                 max_tokens: int = 120, overlap_tokens: int = 24, structure: bool = True,
                 block_tokens: int | None = None):
        if not 0 <= overlap_tokens < max_tokens:
            raise ValueError("overlap_tokens must be at least 0 and smaller than max_tokens")
        self._splitter = splitter
        self._count = count_tokens
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.structure = structure
        self.block_tokens = block_tokens or max_tokens

    def chunk(self, doc: ParsedDocument) -> list[Chunk]:
        chunks: list[Chunk] = []
        sections = doc.sections or [Section(0, len(doc.text))]
        for section in sections:
            blocks = outline(doc.text, section.start, section.end) if self.structure else []
            if blocks:
                pieces = list(self._pack_blocks(doc.text, blocks, ()))
            else:
                pieces = [(s, e, t, ()) for s, e, t in self._sentences(doc.text, section.start, section.end)]
            for start, end, tokens, carried in pieces:
                chunks.append(Chunk(len(chunks), start, end, doc.text[start:end], section.headings + carried,
                                    section.page, tokens))
        return chunks

    # -- numbered structure ----------------------------------------------------------------------

    def _pack_blocks(self, text: str, blocks: list[Block], carried: tuple[str, ...],
                     lead: tuple[int, tuple[str, ...]] | None = None) -> Iterator[Piece]:
        """Whole sibling blocks packed up to the budget; a block over the budget is split on its own.

        `lead` is (start, headings) for the piece that begins with the parent's own lead text: that
        piece needs no reminder of the lead it starts with.
        """
        group: list[Block] = []
        total = 0

        def flush() -> Piece:
            # The sum of the parts, like sentence windows: an upper bound on the joined count.
            start, end = group[0].start, group[-1].end
            return start, end, total, lead[1] if lead is not None and start == lead[0] else carried

        for block in blocks:
            tokens = self._count(text[block.start:block.end])
            if tokens > self.block_tokens:
                if group:
                    yield flush()
                    group, total = [], 0
                yield from self._split(text, block, carried if lead is None or block.start != lead[0] else lead[1])
                continue
            if group and total + tokens > self.block_tokens:
                yield flush()
                group, total = [], 0
            group.append(block)
            total += tokens
        if group:
            yield flush()

    def _split(self, text: str, block: Block, carried: tuple[str, ...]) -> Iterator[Piece]:
        """A block over the budget: its lead and children packed under the lead line, else sentences."""
        if not block.children:
            yield from ((s, e, t, carried) for s, e, t in self._sentences(text, block.start, block.end))
            return
        inner = carried + (lead_line(text, block),)
        lead = Block(block.level, block.start, block.body_end)
        if self._count(text[lead.start:lead.end]) > self.block_tokens:
            yield from ((s, e, t, carried) for s, e, t in self._sentences(text, lead.start, lead.end))
            yield from self._pack_blocks(text, block.children, inner)
        else:
            yield from self._pack_blocks(text, [lead, *block.children], inner, lead=(block.start, carried))

    # -- sentence windows (text without numbering) -------------------------------------------------

    def _sentences(self, text: str, start: int, end: int):
        return self._pack(self._units(text, start, end))

    def _units(self, text: str, start: int, end: int) -> list[tuple[int, int, int]]:
        """(start, end, tokens) of each sentence in the span; paragraphs never share a sentence."""
        units: list[tuple[int, int, int]] = []
        pos = start
        for para in text[start:end].split("\n"):
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
