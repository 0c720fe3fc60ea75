"""PDF: the text layer of each page through pypdf; a page is a section with its page number."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError, PyPdfError

from jaju.knowledge.document import ParsedDocument, TextBuilder
from jaju.knowledge.errors import CorruptDocument, EmptyDocument, EncryptedDocument


def parse_pdf(filename: str, data: bytes) -> ParsedDocument:
    # pypdf logs recoverable damage as warnings; a broken file still fails through its exceptions.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Owner-password-only PDFs (print/copy restrictions) open with the empty user password.
            try:
                opened = reader.decrypt("")
            except (FileNotDecryptedError, NotImplementedError):
                opened = 0
            if not opened:
                raise EncryptedDocument(filename, "it is password-protected; remove the password and upload it again")
        builder = TextBuilder()
        for number, page in enumerate(reader.pages, start=1):
            builder.paragraph(page.extract_text() or "")
            builder.page_break(number)
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
        pages = len(reader.pages)
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as e:
        raise CorruptDocument(filename, f"the PDF cannot be read ({type(e).__name__}: {e})") from None
    doc = builder.build("pdf", "", pages=pages)
    if not doc.text.strip():
        raise EmptyDocument(filename, "the PDF has no text layer (a scan?); OCR is not supported")
    first_line = doc.text.strip().split("\n", 1)[0].strip()
    doc.title = str(meta_title).strip() or first_line[:200] or filename
    return doc
