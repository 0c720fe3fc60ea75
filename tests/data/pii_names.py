"""Loader for the PERSON-in-free-text sets (pii_names_dev.txt, pii_names_unseen.txt): ⟦name⟧ -> spans.

Each document starts with a "## <genre>" line; "#" lines are comments. Rows come out in the shape
`jaju.privacy.evaluation.evaluate` reads: {"id", "genre", "text", "spans": [{start, end, entity}]}.
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEV = HERE / "pii_names_dev.txt"
UNSEEN = HERE / "pii_names_unseen.txt"
_MARK = re.compile(r"⟦([^⟦⟧]+)⟧")


def parse(text: str) -> tuple[str, list[dict]]:
    """Marked text -> (plain text, PERSON spans)."""
    out, spans, pos = [], [], 0
    length = 0
    for m in _MARK.finditer(text):
        piece = text[pos:m.start()]
        out.append(piece)
        length += len(piece)
        spans.append({"start": length, "end": length + len(m.group(1)), "entity": "PERSON"})
        out.append(m.group(1))
        length += len(m.group(1))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), spans


def load(path: Path) -> list[dict]:
    rows: list[dict] = []
    genre, lines = None, []

    def close() -> None:
        if genre is not None and any(line.strip() for line in lines):
            text, spans = parse("\n".join(lines).strip("\n"))
            rows.append({"id": f"{path.stem}-{len(rows):03d}", "genre": genre, "text": text, "spans": spans})

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            close()
            genre, lines = line[3:].strip(), []
        elif line.startswith("#"):
            continue
        else:
            lines.append(line)
    close()
    return rows
