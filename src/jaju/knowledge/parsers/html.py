"""HTML: visible text by block, <h1>-<h6> as sections, <title> as title; scripts and styles dropped."""

from __future__ import annotations

from html.parser import HTMLParser

from jaju.knowledge.document import ParsedDocument, TextBuilder
from jaju.knowledge.errors import EmptyDocument
from jaju.knowledge.parsers.text import decode_text

_SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg"})
_BLOCK = frozenset({"p", "div", "li", "tr", "br", "section", "article", "blockquote", "pre", "table",
                    "ul", "ol", "dd", "dt", "figcaption", "header", "footer", "main", "nav", "td", "th"})
_HEADINGS = {f"h{i}": i for i in range(1, 7)}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = TextBuilder()
        self.title = ""
        self._skip = 0
        self._in_title = False
        self._heading: int | None = None
        self._buf: list[str] = []

    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split())
        self._buf = []
        if not text:
            return
        if self._heading is not None:
            self.builder.heading(self._heading, text)
        else:
            self.builder.paragraph(text)

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP:
            self._skip += 1
        elif tag in _HEADINGS:
            self._flush()
            self._heading = _HEADINGS[tag]
        elif tag in _BLOCK:
            self._flush()

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _HEADINGS:
            self._flush()
            self._heading = None
        elif tag in _BLOCK:
            self._flush()

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._buf.append(data)


def parse_html(filename: str, data: bytes) -> ParsedDocument:
    collector = _Collector()
    collector.feed(decode_text(filename, data))
    collector.close()
    collector._flush()
    builder = collector.builder
    doc = builder.build("html", "")
    if not doc.text.strip():
        raise EmptyDocument(filename, "it contains no visible text")
    doc.title = " ".join(collector.title.split()) or builder.first_heading or filename
    return doc
