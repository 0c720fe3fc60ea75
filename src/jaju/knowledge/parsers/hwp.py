"""HWP 5.0 (OLE compound file): FileHeader flags, raw-deflate BodyText/SectionN, PARA_TEXT records."""

from __future__ import annotations

import io
import re
import struct
import zlib

import olefile

from jaju.knowledge.document import ParsedDocument
from jaju.knowledge.errors import CorruptDocument, EmptyDocument, EncryptedDocument, UnsupportedFormat
from jaju.knowledge.parsers.text import build_from_lines

SIGNATURE = b"HWP Document File"
HWPTAG_PARA_TEXT = 67  # HWPTAG_BEGIN (16) + 51
FLAG_COMPRESSED = 0x01
FLAG_PASSWORD = 0x02
FLAG_DISTRIBUTION = 0x04  # 배포용 문서: body moved to encrypted ViewText streams
FLAG_DRM = 0x10
MAX_SECTION_BYTES = 200 * 1024 * 1024

# Control characters inside PARA_TEXT: "char" controls take one UTF-16 unit; inline and extended
# controls take eight (the code, six units of parameters, the code again) and carry no text.
_ONE_UNIT = frozenset({0, 10, 13, 24, 25, 26, 27, 28, 29, 30, 31})
_EIGHT_UNITS = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23})
_SECTION = re.compile(r"^Section(\d+)$")


def _records(data: bytes):
    """(tag, payload) for each record of a decompressed stream."""
    pos, n = 0, len(data)
    while pos + 4 <= n:
        (header,) = struct.unpack_from("<I", data, pos)
        pos += 4
        tag, size = header & 0x3FF, (header >> 20) & 0xFFF
        if size == 0xFFF:  # extended size follows in its own DWORD
            if pos + 4 > n:
                raise ValueError("truncated record header")
            (size,) = struct.unpack_from("<I", data, pos)
            pos += 4
        if pos + size > n:
            raise ValueError("record runs past the end of the stream")
        yield tag, data[pos:pos + size]
        pos += size


def para_text(payload: bytes) -> str:
    """Visible text of one PARA_TEXT record: controls skipped, tabs and line breaks kept."""
    units = struct.unpack(f"<{len(payload) // 2}H", payload[: len(payload) // 2 * 2])
    out: list[str] = []
    i, n = 0, len(units)
    while i < n:
        u = units[i]
        if u >= 32:
            out.append(chr(u))
            i += 1
        elif u in _EIGHT_UNITS:
            if u == 9:
                out.append("\t")
            i += 8
        else:
            if u in (10, 13):
                out.append("\n")
            elif u in (30, 31):  # non-breaking and fixed-width spaces
                out.append(" ")
            i += 1
    # Surrogate pairs arrive as two units; re-encode to join them into single characters.
    return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16", errors="replace")


def _decompress(filename: str, raw: bytes) -> bytes:
    try:
        d = zlib.decompressobj(-15)  # raw deflate, no zlib header
        out = d.decompress(raw, MAX_SECTION_BYTES)
    except zlib.error as e:
        raise CorruptDocument(filename, f"a body section does not decompress ({e})") from None
    if d.unconsumed_tail:
        raise CorruptDocument(filename, "a body section expands past 200 MB")
    return out


def parse_hwp(filename: str, data: bytes) -> ParsedDocument:
    if not olefile.isOleFile(io.BytesIO(data)):
        raise CorruptDocument(filename, "it is not an OLE compound file (HWP 5.0)")
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except (OSError, ValueError, struct.error) as e:
        raise CorruptDocument(filename, f"the OLE container is damaged ({e})") from None
    with ole:
        if not ole.exists("FileHeader"):
            raise UnsupportedFormat(filename, "it is an OLE file but not an HWP document "
                                              "(old .doc/.xls files are not supported)")
        try:
            header = ole.openstream("FileHeader").read()
            if not header.startswith(SIGNATURE) or len(header) < 40:
                raise CorruptDocument(filename, "its FileHeader has no HWP signature")
            version = struct.unpack_from("<I", header, 32)[0]
            flags = struct.unpack_from("<I", header, 36)[0]
            if version >> 24 != 5:
                raise UnsupportedFormat(filename, f"HWP version {version >> 24} is not supported; "
                                                  "save it as HWP 5.0 or HWPX")
            if flags & (FLAG_PASSWORD | FLAG_DRM):
                raise EncryptedDocument(filename, "it is password- or DRM-protected; "
                                                  "remove the protection in Hangul and upload it again")
            if flags & FLAG_DISTRIBUTION:
                raise EncryptedDocument(filename, "it is a distribution document (배포용 문서), whose body is "
                                                  "encrypted; save it as a normal HWP or HWPX")
            sections = sorted((int(m.group(1)), "/".join(path)) for path in ole.listdir()
                              if len(path) == 2 and path[0] == "BodyText" and (m := _SECTION.match(path[1])))
            if not sections:
                raise CorruptDocument(filename, "it has no BodyText sections")
            lines: list[str] = []
            for _, name in sections:
                raw = ole.openstream(name).read()
                body = _decompress(filename, raw) if flags & FLAG_COMPRESSED else raw
                try:
                    for tag, payload in _records(body):
                        if tag == HWPTAG_PARA_TEXT:
                            lines.extend(para_text(payload).rstrip("\n").split("\n"))
                except (ValueError, struct.error) as e:
                    raise CorruptDocument(filename, f"the records of {name} are damaged ({e})") from None
        except OSError as e:
            raise CorruptDocument(filename, f"a stream cannot be read ({e})") from None
    doc = build_from_lines("hwp", filename, lines)
    if not doc.text.strip():
        raise EmptyDocument(filename, "the document contains no text")
    return doc
