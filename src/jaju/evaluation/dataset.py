"""Multiple-choice sets the user supplies, in the formats the Korean benchmarks ship (nothing is downloaded).

- KMMLU (CSV): columns `question, answer, A, B, C, D, Category` (answer 1-4; `Human Accuracy` ignored).
- CLIcK (JSON array or JSONL): `id, paragraph, question, choices, answer` (answer is the text of a choice);
  the category is the id without its number (`KIIP_law_12` -> `KIIP_law`).
- HAE-RAE (JSONL or JSON array): `query` (question with its options written in), `answer` like `(A)`,
  optional `options` (a list) and `category`.

Every row is checked before anything runs; a bad row is an `EvalFileError` naming the file and line.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from jaju.errors import JajuError

LETTERS = "ABCDE"
KMMLU_COLUMNS = ("question", "answer", "A", "B", "C", "D")


class EvalFileError(JajuError):
    """An evaluation file that cannot be read as asked; the message names the line."""


@dataclass(frozen=True, slots=True)
class Question:
    """One item: the text to condition on, the continuations to score, the right one's index."""

    id: str
    category: str
    prompt: str
    continuations: tuple[str, ...]
    answer: int  # 0-based index into continuations


def _options_prompt(question: str, options: list[str], paragraph: str = "") -> str:
    lines = [f"맥락: {paragraph.strip()}"] if paragraph and paragraph.strip() else []
    lines.append(question.strip())
    lines += [f"{LETTERS[i]}. {str(o).strip()}" for i, o in enumerate(options)]
    return "\n".join(lines) + "\n정답:"


def _letters(n: int) -> tuple[str, ...]:
    return tuple(f" {LETTERS[i]}" for i in range(n))


def load_questions(path: Path) -> list[Question]:
    """Read a KMMLU CSV, a CLIcK JSON/JSONL or a HAE-RAE JSONL file."""
    if not path.is_file():
        raise EvalFileError(f"{path} does not exist.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise EvalFileError(f"{path} is not UTF-8 text (byte {e.start}).") from None
    if path.suffix.lower() == ".csv":
        return _kmmlu(path, text)
    rows = _json_rows(path, text)
    if not rows:
        raise EvalFileError(f"{path} has no questions.")
    return [_json_question(path, label, row) for label, row in rows]


def _kmmlu(path: Path, text: str) -> list[Question]:
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in KMMLU_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise EvalFileError(f"{path}, line 1: the header lacks {', '.join(missing)} (KMMLU columns are "
                            f"{', '.join(KMMLU_COLUMNS)}, Category).")
    out = []
    for n, row in enumerate(reader, start=2):
        line = reader.line_num or n
        if any(row.get(c) is None for c in KMMLU_COLUMNS):
            raise EvalFileError(f"{path}, line {line}: the row has fewer fields than the header.")
        empty = [c for c in KMMLU_COLUMNS if not row[c].strip()]
        if empty:
            raise EvalFileError(f"{path}, line {line}: {', '.join(empty)} is empty.")
        try:
            answer = int(row["answer"].strip())
        except ValueError:
            answer = 0
        if not 1 <= answer <= 4:
            raise EvalFileError(f"{path}, line {line}: answer must be 1-4 (A-D), got {row['answer']!r}.")
        options = [row[c] for c in "ABCD"]
        out.append(Question(id=f"{path.stem}-{len(out) + 1}", category=(row.get("Category") or "").strip()
                            or path.stem, prompt=_options_prompt(row["question"], options),
                            continuations=_letters(4), answer=answer - 1))
    if not out:
        raise EvalFileError(f"{path} has a header but no questions.")
    return out


def _json_rows(path: Path, text: str) -> list[tuple[str, dict]]:
    """(where, object) for each item: `item N` in a JSON array, `line N` in JSONL."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise EvalFileError(f"{path}, line {e.lineno}: not valid JSON ({e.msg}).") from None
        rows = []
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise EvalFileError(f"{path}: item {i + 1} is not an object.")
            rows.append((f"item {i + 1}", item))
        return rows
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise EvalFileError(f"{path}, line {n}: not valid JSON ({e.msg}).") from None
        if not isinstance(item, dict):
            raise EvalFileError(f"{path}, line {n}: not a JSON object.")
        rows.append((f"line {n}", item))
    return rows


def _json_question(path: Path, label: str, row: dict) -> Question:
    where = f"{path}, {label}"
    line = label.split()[-1]
    if "query" in row:
        return _haerae(where, line, row, path)
    missing = [k for k in ("question", "choices", "answer") if k not in row]
    if missing:
        raise EvalFileError(f"{where}: missing {', '.join(missing)} (CLIcK items have id, paragraph, question, "
                            "choices, answer; HAE-RAE items have query and answer).")
    choices = row["choices"]
    if not isinstance(choices, list) or not 2 <= len(choices) <= len(LETTERS):
        raise EvalFileError(f"{where}: choices must be a list of 2-{len(LETTERS)} options.")
    choices = [str(c) for c in choices]
    answer = str(row["answer"]).strip()
    stripped = [c.strip() for c in choices]
    if answer not in stripped:
        raise EvalFileError(f"{where}: answer {answer!r} is not one of the choices.")
    qid = str(row.get("id") or f"{path.stem}-{line}")
    category = str(row.get("category") or re.sub(r"_?\d+$", "", qid) or path.stem)
    return Question(id=qid, category=category,
                    prompt=_options_prompt(str(row["question"]), choices, str(row.get("paragraph") or "")),
                    continuations=_letters(len(choices)), answer=stripped.index(answer))


def _haerae(where: str, line: str, row: dict, path: Path) -> Question:
    if "answer" not in row:
        raise EvalFileError(f"{where}: missing answer.")
    options = row.get("options")
    n = len(options) if isinstance(options, list) and options else 5
    if not 2 <= n <= len(LETTERS):
        raise EvalFileError(f"{where}: options must have 2-{len(LETTERS)} entries.")
    m = re.fullmatch(r"\(?\s*([A-Ea-e])\s*\)?", str(row["answer"]).strip())
    if m is None or LETTERS.index(m.group(1).upper()) >= n:
        raise EvalFileError(f"{where}: answer must be one of {', '.join(f'({c})' for c in LETTERS[:n])}, "
                            f"got {row['answer']!r}.")
    query = str(row["query"]).rstrip()
    if isinstance(options, list) and options and "(A)" not in query:
        query += "\n" + "\n".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(options))
    prompt = query if query.endswith(":") else query + "\n정답:"
    return Question(id=str(row.get("id") or f"{path.stem}-{line}"), category=str(row.get("category") or path.stem),
                    prompt=prompt, continuations=tuple(f" ({LETTERS[i]})" for i in range(n)),
                    answer=LETTERS.index(m.group(1).upper()))
