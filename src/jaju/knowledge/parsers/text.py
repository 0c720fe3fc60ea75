"""Plain text (.txt): decode UTF-8, UTF-16 or CP949 and find Korean legal headings (제1장, 제2절)."""

from __future__ import annotations

import re

from jaju.knowledge.document import ParsedDocument, TextBuilder
from jaju.knowledge.errors import CorruptDocument, EmptyDocument

# 제1편 / 제1장 / 제2절 lines in statutes and bills; 조 (articles) stay in the body because they are
# short and numerous, and the chapter is the useful context for them.
_LEGAL_HEADING = re.compile(r"^\s*(제\s?\d+\s?(편|장|절|관))(\s|$)")
_LEVELS = {"편": 1, "장": 2, "절": 3, "관": 4}


def decode_text(filename: str, data: bytes) -> str:
    """Bytes to str: BOM-marked UTF-8/16, then UTF-8, then CP949 (common in Korean public files)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise CorruptDocument(filename, "it looks like a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp949")
    except UnicodeDecodeError:
        raise CorruptDocument(filename, "its text is neither UTF-8 nor CP949 (EUC-KR); "
                                        "save it as UTF-8 and upload it again") from None


def legal_heading_level(line: str) -> int | None:
    """The outline level of a 제N편/장/절/관 line, or None for body text."""
    m = _LEGAL_HEADING.match(line)
    if m is None or len(line.strip()) > 60:
        return None
    return _LEVELS[m.group(2)]


def build_from_lines(fmt: str, filename: str, lines: list[str], verbatim: bool = False) -> ParsedDocument:
    """A document from plain lines, legal headings becoming sections; the first line is the title."""
    builder = TextBuilder(verbatim)
    title = ""
    for line in lines:
        stripped = line.strip()
        if not title and stripped:
            title = stripped[:200]
        level = legal_heading_level(stripped) if stripped else None
        if level is not None:
            builder.heading(level, stripped)
        else:
            builder.paragraph(line if verbatim else line.rstrip())
    doc = builder.build(fmt, title or filename)
    if not doc.text.strip():
        raise EmptyDocument(filename, "it contains no text")
    return doc


def parse_txt(filename: str, data: bytes) -> ParsedDocument:
    text = decode_text(filename, data).replace("\r\n", "\n").replace("\r", "\n")
    return build_from_lines("txt", filename, text.split("\n"), verbatim=True)
