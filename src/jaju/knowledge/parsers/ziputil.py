"""Safe reading of zip-based formats (DOCX, HWPX): size limits against zip bombs, hardened XML."""

from __future__ import annotations

import io
import zipfile
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from jaju.knowledge.errors import CorruptDocument

MAX_MEMBER_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 500 * 1024 * 1024


def open_zip(filename: str, data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as e:
        raise CorruptDocument(filename, f"the zip container is damaged ({e})") from None
    if sum(info.file_size for info in archive.infolist()) > MAX_TOTAL_BYTES:
        raise CorruptDocument(filename, "it expands to more than 500 MB; refusing a possible zip bomb")
    return archive


def read_member(filename: str, archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise CorruptDocument(filename, f"the part {name} is missing") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise CorruptDocument(filename, f"the part {name} is larger than 200 MB")
    try:
        with archive.open(info) as f:
            content = f.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise CorruptDocument(filename, f"the part {name} is damaged ({e})") from None
    if len(content) > MAX_MEMBER_BYTES:
        raise CorruptDocument(filename, f"the part {name} is larger than 200 MB")
    return content


def parse_xml(filename: str, name: str, content: bytes) -> Element:
    try:
        return fromstring(content)
    except (ParseError, DefusedXmlException) as e:
        raise CorruptDocument(filename, f"the part {name} is not valid XML ({e})") from None


def local(tag: str) -> str:
    """The tag name without its {namespace}."""
    return tag.rsplit("}", 1)[-1]
