"""The parser registry: a format by sniffed magic bytes first, then by file extension."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import PurePath

from jaju.knowledge.document import ParsedDocument
from jaju.knowledge.errors import CorruptDocument, EncryptedDocument, UnsupportedFormat
from jaju.knowledge.parsers.docx import parse_docx
from jaju.knowledge.parsers.html import parse_html
from jaju.knowledge.parsers.hwp import parse_hwp
from jaju.knowledge.parsers.hwpx import MIMETYPE as HWPX_MIMETYPE
from jaju.knowledge.parsers.hwpx import parse_hwpx
from jaju.knowledge.parsers.markdown import parse_md
from jaju.knowledge.parsers.pdf import parse_pdf
from jaju.knowledge.parsers.text import parse_txt

Parser = Callable[[str, bytes], ParsedDocument]

PARSERS: dict[str, Parser] = {
    "txt": parse_txt,
    "md": parse_md,
    "html": parse_html,
    "pdf": parse_pdf,
    "docx": parse_docx,
    "hwpx": parse_hwpx,
    "hwp": parse_hwp,
}

EXTENSIONS: dict[str, str] = {
    ".txt": "txt", ".text": "txt", ".csv": "txt", ".log": "txt",
    ".md": "md", ".markdown": "md",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".hwpx": "hwpx",
    ".hwp": "hwp",
}
BINARY_FORMATS = frozenset({"pdf", "docx", "hwpx", "hwp"})

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
HWP3_MAGIC = b"HWP Document File V3"


def _sniff_zip(filename: str, data: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except zipfile.BadZipFile as e:
        raise CorruptDocument(filename, f"the zip container is damaged ({e})") from None
    if "mimetype" in names or "Contents/section0.xml" in names:
        if "Contents/section0.xml" in names or data[38:38 + len(HWPX_MIMETYPE)] == HWPX_MIMETYPE:
            return "hwpx"
    if "word/document.xml" in names:
        return "docx"
    raise UnsupportedFormat(filename, "it is a zip archive but neither DOCX nor HWPX")


def _sniff(filename: str, data: bytes) -> str | None:
    """The format named by the file's first bytes, or None when they name no binary format."""
    if data.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(ZIP_MAGIC):
        return _sniff_zip(filename, data)
    if data.startswith(OLE_MAGIC):
        # Encrypted OOXML (a password-protected .docx) is an OLE file with an EncryptedPackage stream.
        if "E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P\x00a\x00c\x00k\x00a\x00g\x00e".encode() in data:
            raise EncryptedDocument(filename, "it is a password-protected Office file; "
                                              "remove the password and upload it again")
        return "hwp"
    if data.startswith(HWP3_MAGIC):
        raise UnsupportedFormat(filename, "HWP 3.0 files are not supported; save it as HWP 5.0 or HWPX")
    return None


def detect_format(filename: str, data: bytes) -> str:
    """The registry key for a file, or a DocumentError saying why it cannot be read."""
    if not data:
        raise CorruptDocument(filename, "the file is empty")
    ext = PurePath(filename).suffix.lower()
    claimed = EXTENSIONS.get(ext)
    sniffed = _sniff(filename, data)
    if sniffed is not None:
        return sniffed
    if claimed in BINARY_FORMATS:
        name = claimed.upper()
        raise CorruptDocument(filename, f"its name says {name} but its content is not a {name} file")
    if claimed is not None:
        return claimed
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    if ext and ext not in EXTENSIONS:
        if b"\x00" in data[:4096]:
            raise UnsupportedFormat(filename, f"the {ext} format is not supported; "
                                              f"use one of {', '.join(sorted(PARSERS))}")
    return "txt"


def parse_document(filename: str, data: bytes) -> ParsedDocument:
    """Parse one uploaded file; raises a DocumentError subclass naming the file on failure."""
    return PARSERS[detect_format(filename, data)](filename, data)


__all__ = ["EXTENSIONS", "PARSERS", "detect_format", "parse_document"]
