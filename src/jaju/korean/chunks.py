"""A long document cut into chunks that fit a model's context, along paragraph and sentence boundaries.

Paragraphs (lines of the text) are kept whole where they fit; a paragraph that does not is cut into
Kiwi sentences, and a sentence that still does not (a table row, text without punctuation) is cut at
the last space before the limit. Pieces are then packed in order, greedily, into chunks of at most
`budget` tokens (counted with the model's own tokenizer) and, optionally, `max_chars` characters.
A chunk's count is the sum of its pieces' counts plus one per join, which is never less than the
count of the joined text in practice (BPE merges across a join only shorten it).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Count = Callable[[str], Awaitable[int]]  # text -> tokens, with the model's tokenizer
Sentences = Callable[[str], list[str]]  # text -> its sentences, in order (Kiwi)
JOIN_TOKENS = 1  # a space or a newline between two pieces


@dataclass(slots=True)
class Piece:
    text: str
    tokens: int
    joiner: str = "\n"  # put before this piece when it follows another: a new line, or a space in a paragraph


@dataclass(slots=True)
class Chunk:
    text: str
    tokens: int


async def pieces(text: str, count: Count, sentences: Sentences, budget: int,
                 max_chars: int | None = None) -> list[Piece]:
    """The text's paragraphs, or their sentences (or parts of them) where a paragraph is too long."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*", text) if p.strip()]
    counts = [await count(p) for p in paragraphs]
    long = [p for p, n in zip(paragraphs, counts) if not _fits(p, n, budget, max_chars)]
    split = dict(zip(long, await asyncio.to_thread(lambda: [sentences(p) for p in long]))) if long else {}
    out: list[Piece] = []
    for p, n in zip(paragraphs, counts):
        if p not in split:
            out.append(Piece(p, n))
            continue
        for i, sentence in enumerate(s.strip() for s in split[p] if s.strip()):
            joiner = "\n" if i == 0 else " "
            for j, piece in enumerate(await _fitting(sentence, count, budget, max_chars)):
                piece.joiner = joiner if j == 0 else " "
                out.append(piece)
    return out


def pack(items: list[Piece], budget: int, max_chars: int | None = None, min_chars: int = 0) -> list[Chunk]:
    """Pieces packed in order into chunks of at most `budget` tokens (and `max_chars` characters).

    A last chunk shorter than `min_chars` takes pieces from the end of the one before it, while it still
    fits and the one before keeps at least one piece (greedy packing fills the earlier chunks first).
    """
    groups: list[list[Piece]] = []
    for p in items:
        if groups and _fits_group(groups[-1] + [p], budget, max_chars):
            groups[-1].append(p)
        else:
            groups.append([p])
    if min_chars and len(groups) > 1:
        before, last = groups[-2], groups[-1]
        while len(_text(last)) < min_chars and len(before) > 1 and _fits_group([before[-1]] + last, budget, max_chars):
            last.insert(0, before.pop())
    return [Chunk(_text(g), _tokens(g)) for g in groups]


def _text(group: list[Piece]) -> str:
    return group[0].text + "".join(p.joiner + p.text for p in group[1:])


def _tokens(group: list[Piece]) -> int:
    return sum(p.tokens for p in group) + JOIN_TOKENS * (len(group) - 1)


def _fits_group(group: list[Piece], budget: int, max_chars: int | None) -> bool:
    return _tokens(group) <= budget and (max_chars is None or len(_text(group)) <= max_chars)


def _fits(text: str, tokens: int, budget: int, max_chars: int | None) -> bool:
    return tokens <= budget and (max_chars is None or len(text) <= max_chars)


async def _fitting(text: str, count: Count, budget: int, max_chars: int | None) -> list[Piece]:
    """One sentence as pieces that fit: whole when it does, else cut at spaces before the limit."""
    n = await count(text)
    if _fits(text, n, budget, max_chars):
        return [Piece(text, n)]
    out: list[Piece] = []
    rest = text
    while rest:
        n = await count(rest)
        if _fits(rest, n, budget, max_chars):
            out.append(Piece(rest, n))
            break
        # Aim at the share of characters that should fit, then shrink until the count agrees.
        limit = max(1, min(len(rest) * budget // max(n, 1), max_chars or len(rest)))
        while True:
            cut = _cut_at(rest, limit)
            head = rest[:cut].rstrip()
            n = await count(head)
            if _fits(head, n, budget, max_chars) or cut == 1:
                break
            limit = max(1, cut * 9 // 10)
        out.append(Piece(head, n))
        rest = rest[cut:].lstrip()
    return out


def _cut_at(text: str, limit: int) -> int:
    """Where to cut `text` to keep at most `limit` characters: after the last space, else at the limit."""
    if len(text) <= limit:
        return len(text)
    space = text.rfind(" ", 0, limit + 1)
    return space if space > 0 else limit
