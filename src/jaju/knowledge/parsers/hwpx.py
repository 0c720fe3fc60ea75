"""HWPX (OWPML, KS X 6101): Contents/sectionN.xml paragraphs; outline styles (개요 N) become headings."""

from __future__ import annotations

import re

from jaju.knowledge.document import ParsedDocument, TextBuilder
from jaju.knowledge.errors import CorruptDocument, EmptyDocument
from jaju.knowledge.parsers.ziputil import local, open_zip, parse_xml, read_member

_SECTION = re.compile(r"^Contents/section(\d+)\.xml$")
_OUTLINE = re.compile(r"^(개요|Outline)\s*(\d+)$", re.IGNORECASE)
MIMETYPE = b"application/hwp+zip"


def _outline_styles(filename: str, archive) -> dict[str, int]:
    """Paragraph style id -> outline level, from Contents/header.xml."""
    if "Contents/header.xml" not in archive.namelist():
        return {}
    root = parse_xml(filename, "Contents/header.xml", read_member(filename, archive, "Contents/header.xml"))
    levels: dict[str, int] = {}
    for el in root.iter():
        if local(el.tag) != "style":
            continue
        for name in (el.get("name") or "", el.get("engName") or ""):
            m = _OUTLINE.match(name.strip())
            if m and el.get("id") is not None:
                levels[el.get("id")] = int(m.group(2))
    return levels


def _title(filename: str, archive) -> str:
    if "Contents/content.hpf" not in archive.namelist():
        return ""
    root = parse_xml(filename, "Contents/content.hpf", read_member(filename, archive, "Contents/content.hpf"))
    for el in root.iter():
        if local(el.tag) == "title" and el.text and el.text.strip():
            return el.text.strip()
    return ""


def _paragraph_text(p) -> str:
    parts: list[str] = []
    for el in p.iter():
        tag = local(el.tag)
        if tag == "t":
            # <hp:t> may hold inline children (<hp:tab/>, <hp:lineBreak/>) with text in their tails.
            parts.append(el.text or "")
            for child in el:
                ctag = local(child.tag)
                parts.append("\t" if ctag == "tab" else "\n" if ctag == "lineBreak" else "")
                parts.append(child.tail or "")
    return "".join(parts)


def parse_hwpx(filename: str, data: bytes) -> ParsedDocument:
    archive = open_zip(filename, data)
    names = archive.namelist()
    sections = sorted((int(m.group(1)), n) for n in names if (m := _SECTION.match(n)))
    if not sections:
        raise CorruptDocument(filename, "the HWPX package has no Contents/section0.xml")
    levels = _outline_styles(filename, archive)
    builder = TextBuilder()
    for _, name in sections:
        root = parse_xml(filename, name, read_member(filename, archive, name))
        for p in root.iter():
            if local(p.tag) != "p":
                continue
            # Table cells hold their own <hp:p>; iterate only paragraphs whose text is direct.
            text = _paragraph_text_direct(p)
            style = p.get("styleIDRef")
            if style in levels:
                builder.heading(levels[style], text)
            else:
                builder.paragraph(text)
    doc = builder.build("hwpx", "")
    if not doc.text.strip():
        raise EmptyDocument(filename, "the document contains no text")
    doc.title = _title(filename, archive) or builder.first_heading or filename
    return doc


def _paragraph_text_direct(p) -> str:
    """Text of a paragraph's own runs, not of paragraphs nested in its tables."""
    parts: list[str] = []
    for run in p:
        if local(run.tag) != "run":
            continue
        for t in run:
            if local(t.tag) == "t":
                parts.append(_paragraph_text(t))
    return "".join(parts)
