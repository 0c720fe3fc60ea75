"""What every parser returns: the plain text of a document and its sections with offsets."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Section:
    """A span of the document's text under one heading path, or one page of a PDF."""

    start: int
    end: int
    headings: tuple[str, ...] = ()
    page: int | None = None


@dataclass(slots=True)
class ParsedDocument:
    """Plain text plus sections; every offset is a character index into `text`."""

    format: str
    title: str
    text: str
    sections: list[Section] = field(default_factory=list)
    pages: int | None = None

    def section_text(self, section: Section) -> str:
        return self.text[section.start:section.end]


class TextBuilder:
    """Appends blocks of text and records sections as headings change (shared by structured parsers)."""

    def __init__(self, verbatim: bool = False) -> None:
        # Verbatim keeps every line as given (blank ones too), so offsets index the source file itself.
        self.verbatim = verbatim
        self._parts: list[str] = []
        self._length = 0
        self._headings: list[tuple[int, str]] = []  # (level, text) stack
        self._section_start = 0
        self.sections: list[Section] = []
        self.first_heading: str | None = None

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._headings)

    def heading(self, level: int, text: str) -> None:
        """Start a new section under a heading of the given level (1 = top)."""
        clean = " ".join(text.split())
        if not clean:
            return
        self._close_section()
        while self._headings and self._headings[-1][0] >= level:
            self._headings.pop()
        self._headings.append((level, clean))
        if self.first_heading is None:
            self.first_heading = clean
        self.paragraph(text if self.verbatim else clean)

    def paragraph(self, text: str) -> None:
        if not self.verbatim:
            text = text.strip("\n")
            if not text.strip():
                return
        if self._parts:
            self._parts.append("\n")
            self._length += 1
        self._parts.append(text)
        self._length += len(text)

    def page_break(self, page: int) -> None:
        """Close the current section as page `page` (PDF)."""
        self._close_section(page)

    def _close_section(self, page: int | None = None) -> None:
        if self._length > self._section_start:
            self.sections.append(Section(self._section_start, self._length, self.headings, page))
        # The next block is preceded by one "\n" separator once anything has been written.
        self._section_start = self._length + (1 if self._parts else 0)

    def build(self, fmt: str, title: str, pages: int | None = None) -> ParsedDocument:
        self._close_section()
        return ParsedDocument(fmt, title, "".join(self._parts), self.sections, pages)
