"""The report value and small Markdown helpers shared by every report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Report:
    kind: str
    data: dict[str, Any]
    markdown: str

    def to_json(self) -> str:
        return json.dumps({"report": self.kind, **self.data}, ensure_ascii=False, indent=2, default=str)


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-style table; pipes inside cells are escaped."""
    def cell(v: Any) -> str:
        return str("" if v is None else v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) if rows else "_(none)_"


def sources(rule) -> str:
    return "; ".join(str(s) for s in rule.sources) if rule is not None else ""
