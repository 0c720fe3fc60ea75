"""The outline inside a section: 제N조 articles, ①② 항, 1. 2. 호, 가. 나. 목 and list items, as a tree of spans.

Statutes, bills and Korean office documents number their parts; a chunk that keeps one article (or one
항 with its 호) whole answers "what does 제N조 say" far better than a window that cuts it. The tree is
built from line starts only, so it works on any format whose parser keeps line breaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# "제12조", "제50조의3(간호과의 수업연한 및 학위에 관한 특례)", then a space, ①, or the end of the line.
# Amendment instructions ("제63조제2항제4호 중 ...", "제4조의2를 다음과 같이", "제43조 중 ...") do not match.
_ARTICLE = re.compile(r"제\s?\d{1,4}\s?조(?:의\s?\d{1,3})?(?:\s?\([^()\n]{1,60}\))?(?=\s|[①-⑳]|$)"
                      r"(?!\s*(?:중|및|부터|까지|내지|각\s?호)(?:\s|$))")
_PARAGRAPH = re.compile(r"[①-⑳]")  # 항
_ITEM = re.compile(r"\d{1,3}(?:의\s?\d{1,2})?\.\s+\S")  # 호: "1.", "1의2."
_SUBITEM = re.compile(r"[가-하]\.\s+\S")  # 목: "가.", "나."
# Only these open a list; "다. 2007년부터" after a wrapped "...명이" is the end of a sentence.
_FIRST = re.compile(r"(?:1|가)\.\s")
_BULLET = re.compile(r"[-•·○◦▪∙※*]\s")
_PAGE_NUMBER = re.compile(r"-\s*\d{1,4}\s*-\s*$")  # "- 3 -" page footers in converted bills

# Depth of each kind of marker; a line that starts none of them continues the block above it.
ARTICLE, PARAGRAPH, ITEM, SUBITEM, BULLET, TEXT = 1, 2, 3, 4, 5, 1
_MARKERS = ((_ARTICLE, ARTICLE), (_PARAGRAPH, PARAGRAPH), (_ITEM, ITEM), (_SUBITEM, SUBITEM), (_BULLET, BULLET))


@dataclass(slots=True)
class Block:
    """A numbered part of the text: `start`..`end` covers the block with all its children."""

    level: int
    start: int
    end: int
    article: bool = False
    children: list[Block] = field(default_factory=list)

    @property
    def body_end(self) -> int:
        """Where the block's own text (its lead, before the first child) ends."""
        return self.children[0].start if self.children else self.end


def marker_level(line: str) -> tuple[int, bool] | None:
    """(depth, is_article) of a line that opens a numbered block, or None for plain text."""
    stripped = line.lstrip()
    if _PAGE_NUMBER.match(stripped):
        return None
    for pattern, level in _MARKERS:
        if pattern.match(stripped):
            return level, level == ARTICLE and pattern is _ARTICLE
    return None


def outline(text: str, start: int, end: int) -> list[Block]:
    """The top-level blocks of text[start:end]; empty when the span has no numbered structure."""
    top: list[Block] = []
    stack: list[Block] = []
    pos, after_blank, ended, numbered = start, True, True, False
    for line in text[start:end].split("\n"):
        line_start, pos = pos, pos + len(line) + 1
        if not line.strip():
            after_blank = True
            continue
        found = marker_level(line)
        if found is not None and found[0] in (ITEM, SUBITEM) and not _FIRST.match(line.lstrip()) \
                and not any(b.level == found[0] for b in stack):
            found = None  # a later 호/목 number with no list open
        # A line without a marker continues the open block unless a blank line follows a finished
        # sentence: converted bills wrap lines mid-word and sometimes put blank lines between them.
        if found is None and stack and not (after_blank and ended):
            after_blank, ended = False, _ends_sentence(line)
            continue
        level, is_article = found if found is not None else (TEXT, False)
        numbered = numbered or found is not None
        lead = len(line) - len(line.lstrip())
        block = Block(level, line_start + lead, line_start, is_article)
        while stack and stack[-1].level >= level:
            stack.pop()
        (stack[-1].children if stack else top).append(block)
        stack.append(block)
        after_blank, ended = False, _ends_sentence(line)
    if not numbered:
        return []
    _close(top, min(end, pos - 1), text)
    return top


def _ends_sentence(line: str) -> bool:
    return line.rstrip().endswith((".", "?", "!", "。", ":", '"', "”", "」"))


def _close(blocks: list[Block], end: int, text: str) -> None:
    """Set each block's end to the next sibling's start (or the parent's end), without trailing space."""
    for i, block in enumerate(blocks):
        stop = blocks[i + 1].start if i + 1 < len(blocks) else end
        while stop > block.start and text[stop - 1].isspace():
            stop -= 1
        block.end = stop
        _close(block.children, stop, text)


def lead_line(text: str, block: Block, limit: int = 80) -> str:
    """The heading a split block carries into its later pieces: its first line, cut at a sentence end."""
    # Wrapped lines keep their own spaces at the break, so joining them without one restores the text.
    line = " ".join(text[block.start:block.body_end].replace("\n", "").split())
    m = re.search(r"다\.|[.?!](?=\s)", line)
    if m is not None and m.end() >= 8:
        line = line[:m.end()]
    return line if len(line) <= limit else line[:limit].rstrip() + "…"
