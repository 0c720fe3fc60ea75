"""Markdown (.md): ATX headings (# ...) become sections; the body keeps its markup."""

from __future__ import annotations

import re

from jaju.knowledge.document import ParsedDocument, TextBuilder
from jaju.knowledge.errors import EmptyDocument
from jaju.knowledge.parsers.text import decode_text

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def parse_md(filename: str, data: bytes) -> ParsedDocument:
    text = decode_text(filename, data).replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and lines[0].strip() == "---":  # YAML front matter is metadata, not content
        for i in range(1, len(lines)):
            if lines[i].strip() in ("---", "..."):
                lines = lines[i + 1:]
                break
    builder = TextBuilder()
    in_fence = False
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        m = None if in_fence else _ATX.match(line)
        if m:
            builder.heading(len(m.group(1)), m.group(2))
        else:
            builder.paragraph(line.rstrip())
    doc = builder.build("md", "")
    if not doc.text.strip():
        raise EmptyDocument(filename, "it contains no text")
    doc.title = builder.first_heading or filename
    return doc
