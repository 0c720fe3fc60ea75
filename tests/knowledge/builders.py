"""Small real documents built by the tests: HWP 5.0, HWPX, DOCX and PDF, all with Korean text."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

from tests.knowledge.cfb import write_cfb

NANUM = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")

# --- HWP 5.0 ------------------------------------------------------------------------------------

def _record(tag: int, level: int, payload: bytes) -> bytes:
    if len(payload) >= 0xFFF:
        return struct.pack("<II", tag | (level << 10) | (0xFFF << 20), len(payload)) + payload
    return struct.pack("<I", tag | (level << 10) | (len(payload) << 20)) + payload


def _para_text(text: str, controls: bool) -> bytes:
    units = b""
    if controls:
        # An extended control (section definition 'secd') as Hangul writes at the top of a section.
        units += struct.pack("<8H", 2, *struct.unpack("<2H", b"dces"), 0, 0, 0, 0, 2)
    parts = text.split("\t")
    for i, part in enumerate(parts):
        if i:
            units += struct.pack("<8H", 9, 0, 0, 0, 0, 0, 0, 9)  # tab: an inline control
        units += part.encode("utf-16-le")
    return units + struct.pack("<H", 13)


def build_hwp(paragraphs: list[str], *, compressed: bool = True, flags: int = 0,
              version: int = 0x05000300) -> bytes:
    """A real HWP 5.0 file: FileHeader, DocInfo, BodyText/Section0 with PARA_HEADER/PARA_TEXT records."""
    props = (1 if compressed else 0) | flags
    header = b"HWP Document File".ljust(32, b"\0") + struct.pack("<II", version, props)
    header = header.ljust(256, b"\0")
    body = b""
    for n, para in enumerate(paragraphs):
        text = _para_text(para, controls=(n == 0))
        body += _record(66, 0, struct.pack("<IIHBB", len(text) // 2, 0, 0, 0, 0).ljust(24, b"\0"))
        body += _record(67, 1, text)
    docinfo = _record(16, 0, b"\0" * 26)

    def pack(data: bytes) -> bytes:
        if not compressed:
            return data
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush()

    return write_cfb({"FileHeader": header, "DocInfo": pack(docinfo), "BodyText/Section0": pack(body),
                      "PrvText": "미리보기".encode("utf-16-le")})


# --- HWPX ---------------------------------------------------------------------------------------

HP = "http://www.hancom.co.kr/hwpml/2011/paragraph"
HS = "http://www.hancom.co.kr/hwpml/2011/section"
HH = "http://www.hancom.co.kr/hwpml/2011/head"


def build_hwpx(title: str, blocks: list[tuple[str, str]]) -> bytes:
    """A real HWPX package; blocks are ("h1"|"h2"|"p", text); headings use the 개요 N styles."""
    style = {"p": "0", "h1": "2", "h2": "3"}
    paras = []
    for n, (kind, text) in enumerate(blocks):
        paras.append(f'<hp:p id="{n}" paraPrIDRef="0" styleIDRef="{style[kind]}"><hp:run charPrIDRef="0">'
                     f"<hp:t>{escape(text)}</hp:t></hp:run></hp:p>")
    # A table whose cell holds its own paragraph, as Hangul nests them.
    paras.append('<hp:p id="99" styleIDRef="0"><hp:run charPrIDRef="0"><hp:tbl><hp:tr><hp:tc><hp:subList>'
                 '<hp:p styleIDRef="0"><hp:run><hp:t>표 안의 내용</hp:t></hp:run></hp:p>'
                 "</hp:subList></hp:tc></hp:tr></hp:tbl></hp:run></hp:p>")
    section = (f'<?xml version="1.0" encoding="UTF-8"?><hs:sec xmlns:hs="{HS}" xmlns:hp="{HP}">'
               + "".join(paras) + "</hs:sec>")
    header = (f'<?xml version="1.0" encoding="UTF-8"?><hh:head xmlns:hh="{HH}" version="1.4"><hh:refList>'
              '<hh:styles itemCnt="3"><hh:style id="0" type="PARA" name="바탕글" engName="Normal"/>'
              '<hh:style id="2" type="PARA" name="개요 1" engName="Outline 1"/>'
              '<hh:style id="3" type="PARA" name="개요 2" engName="Outline 2"/></hh:styles>'
              "</hh:refList></hh:head>")
    content = ('<?xml version="1.0" encoding="UTF-8"?><opf:package xmlns:opf="http://www.idpf.org/2007/opf/">'
               f"<opf:metadata><opf:title>{escape(title)}</opf:title><opf:language>ko</opf:language></opf:metadata>"
               '<opf:manifest><opf:item id="section0" href="Contents/section0.xml" media-type="application/xml"/>'
               '</opf:manifest><opf:spine><opf:itemref idref="section0"/></opf:spine></opf:package>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/hwp+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("version.xml", '<?xml version="1.0" encoding="UTF-8"?><hv:HCFVersion '
                                  'xmlns:hv="http://www.hancom.co.kr/hwpml/2011/version" major="5" minor="1"/>')
        z.writestr("META-INF/container.xml", '<?xml version="1.0" encoding="UTF-8"?><ocf:container '
                   'xmlns:ocf="urn:oasis:names:tc:opendocument:xmlns:container"><ocf:rootfiles>'
                   '<ocf:rootfile full-path="Contents/content.hpf" media-type="application/hwpml-package+xml"/>'
                   "</ocf:rootfiles></ocf:container>")
        z.writestr("Contents/content.hpf", content)
        z.writestr("Contents/header.xml", header)
        z.writestr("Contents/section0.xml", section)
    return buf.getvalue()


# --- DOCX ---------------------------------------------------------------------------------------

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def build_docx(title: str, blocks: list[tuple[str, str]]) -> bytes:
    """A DOCX written from XML; headings use Korean Word's style ids ("1" named "heading 1")."""
    style = {"title": "a3", "h1": "1", "h2": "2"}
    body = []
    for kind, text in blocks:
        ppr = f'<w:pPr><w:pStyle w:val="{style[kind]}"/></w:pPr>' if kind in style else ""
        body.append(f'<w:p>{ppr}<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>')
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}"><w:body>'
                + "".join(body) + "<w:sectPr/></w:body></w:document>")
    styles = (f'<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="{W}">'
              '<w:style w:type="paragraph" w:styleId="a3"><w:name w:val="Title"/></w:style>'
              '<w:style w:type="paragraph" w:styleId="1"><w:name w:val="heading 1"/></w:style>'
              '<w:style w:type="paragraph" w:styleId="2"><w:name w:val="heading 2"/></w:style></w:styles>')
    core = ('<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
            'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{escape(title)}</dc:title></cp:coreProperties>")
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="xml" ContentType="application/xml"/><Override '
             'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'wordprocessingml.document.main+xml"/></Types>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("word/document.xml", document)
        z.writestr("word/styles.xml", styles)
        z.writestr("docProps/core.xml", core)
    return buf.getvalue()


# --- PDF ----------------------------------------------------------------------------------------

def build_pdf(pages: list[str], title: str = "", password: str | None = None) -> bytes:
    """A PDF with a Korean text layer (fpdf2 with the NanumGothic font embedded)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("Nanum", fname=str(NANUM))
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        pdf.set_font("Nanum", size=12)
        pdf.multi_cell(0, 8, text)
    if password is not None:
        from fpdf.enums import EncryptionMethod

        pdf.set_encryption(owner_password="owner", user_password=password, encryption_method=EncryptionMethod.AES_128)
    return bytes(pdf.output())
