"""DOCX (Office Open XML): paragraphs of word/document.xml; heading styles resolved via styles.xml."""

from __future__ import annotations

import re

from jaju.knowledge.document import ParsedDocument, TextBuilder
from jaju.knowledge.errors import EmptyDocument
from jaju.knowledge.parsers.ziputil import local, open_zip, parse_xml, read_member

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_HEADING_NAME = re.compile(r"^(heading|제목)\s*(\d)$", re.IGNORECASE)


def _heading_styles(filename: str, archive) -> tuple[dict[str, int], set[str]]:
    """styleId -> outline level for heading styles, and the ids of Title styles."""
    levels: dict[str, int] = {"Heading1": 1, "Heading2": 2, "Heading3": 3, "Heading4": 4}
    titles: set[str] = {"Title"}
    if "word/styles.xml" not in archive.namelist():
        return levels, titles
    root = parse_xml(filename, "word/styles.xml", read_member(filename, archive, "word/styles.xml"))
    for style in root.iter(f"{W}style"):
        sid = style.get(f"{W}styleId")
        name_el = style.find(f"{W}name")
        name = (name_el.get(f"{W}val") if name_el is not None else "") or ""
        # Korean Word names heading styles "heading 1" but gives them ids such as "1".
        m = _HEADING_NAME.match(name.strip())
        if sid and m:
            levels[sid] = int(m.group(2))
        elif sid and name.strip().lower() in ("title", "제목"):
            titles.add(sid)
    return levels, titles


def _paragraph_text(p) -> str:
    parts: list[str] = []
    for el in p.iter():
        tag = local(el.tag)
        if tag == "t" and el.text:
            parts.append(el.text)
        elif tag == "tab":
            parts.append("\t")
        elif tag in ("br", "cr"):
            parts.append("\n")
    return "".join(parts)


def parse_docx(filename: str, data: bytes) -> ParsedDocument:
    archive = open_zip(filename, data)
    root = parse_xml(filename, "word/document.xml", read_member(filename, archive, "word/document.xml"))
    levels, title_styles = _heading_styles(filename, archive)
    builder = TextBuilder()
    title = ""
    for p in root.iter(f"{W}p"):
        style_el = p.find(f"{W}pPr/{W}pStyle")
        style = style_el.get(f"{W}val") if style_el is not None else None
        text = _paragraph_text(p)
        if style in title_styles and not title:
            title = " ".join(text.split())
        if style in levels:
            builder.heading(levels[style], text)
        else:
            builder.paragraph(text)
    if "docProps/core.xml" in archive.namelist():
        core = parse_xml(filename, "docProps/core.xml", read_member(filename, archive, "docProps/core.xml"))
        el = core.find(DC_TITLE)
        if el is not None and el.text and el.text.strip():
            title = el.text.strip()
    doc = builder.build("docx", "")
    if not doc.text.strip():
        raise EmptyDocument(filename, "the document contains no text")
    doc.title = title or builder.first_heading or filename
    return doc
