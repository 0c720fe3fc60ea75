"""JSON the server decodes outside pydantic's request parsing, bounded in size and depth.

Client JSON can arrive inside a string (a form field, tool-call `arguments`) or as free-form objects
(tool `parameters`, `response_format.json_schema`). Decoding or walking it recursively ends in a
RecursionError far from the edge; these helpers refuse it first, with a message that says why.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator

MAX_DEPTH = 64
MAX_CHARS = 1024 * 1024
# A JSON escape for a UTF-16 surrogate (\ud800-\udfff); decoded alone it is not valid Unicode.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")

T = TypeVar("T")


class JsonRejected(ValueError):
    """JSON refused before use; `path` is where in the value the problem is (dotted), if anywhere."""

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH, max_chars: int = MAX_CHARS) -> Any:
    """json.loads with bounds: size, nesting depth and valid Unicode in every string and key."""
    if len(text) > max_chars:
        raise JsonRejected(f"is longer than {max_chars} characters")
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonRejected(f"is nested more than {max_depth} levels deep") from None
    except ValueError:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        raise JsonRejected("is not valid JSON") from None
    if _may_be_unsafe(text, max_depth):  # else the walk cannot find anything (an upstream's every chunk)
        check_value(value, max_depth)
    return value


def _may_be_unsafe(text: str | bytes, max_depth: int) -> bool:
    """Whether decoded `text` could nest deeper than `max_depth` or hold a lone surrogate.

    Nesting needs an opening bracket per level, and a lone surrogate can only come from a \\u escape (a
    strict UTF-8 decode refuses encoded ones) or, in a str, from the str itself: C-speed counts decide.
    """
    if isinstance(text, bytes):
        return (text.count(b"[") + text.count(b"{") > max_depth
                or (b"\\u" in text and _SURROGATE_ESCAPE.search(text.decode("utf-8", "replace")) is not None))
    if text.count("[") + text.count("{") > max_depth or ("\\u" in text and _SURROGATE_ESCAPE.search(text)):
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_value(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Walk decoded JSON without recursion: depth within the bound, every string valid Unicode."""
    stack: list[tuple[Any, int, tuple]] = [(value, 1, ())]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            _check_text(item, path)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:  # no path: at this depth it would only be a long run of indexes
            raise JsonRejected(f"is nested more than {max_depth} levels deep")
        if isinstance(item, dict):
            for k, v in item.items():
                _check_text(k, path + (k,))
                stack.append((v, depth + 1, path + (k,)))
        else:
            stack.extend((v, depth + 1, path + (i,)) for i, v in enumerate(item))


def check_embedded_json(text: str, max_depth: int = MAX_DEPTH) -> None:
    """For JSON carried in a string field that later code decodes: refuse it now if it would fail there.

    The common case costs C-speed counts (`_may_be_unsafe`); only text that could be too deep, or that
    could hold a lone surrogate, is decoded here. Text that is not JSON at all passes (it is used as plain text).
    """
    if not _may_be_unsafe(text, max_depth):
        return
    try:
        loads(text, max_depth=max_depth, max_chars=max(len(text), 1))
    except JsonRejected as e:
        if str(e) != "is not valid JSON":
            raise ValueError(f"holds JSON that {e.message}" + (f" (at {e.path})" if e.path else "")) from None


def _bounded(value: T) -> T:
    try:
        check_value(value)
    except JsonRejected as e:
        raise ValueError(e.message + (f" (at {e.path})" if e.path else "")) from None
    return value


# A free-form JSON field (JSON schema, tool parameters) whose depth is bounded.
BoundedJson = Annotated[T, AfterValidator(_bounded)]


def _check_text(s: Any, path: tuple) -> None:
    if isinstance(s, str) and not s.isascii():
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            raise JsonRejected("holds text that is not valid Unicode (a lone UTF-16 surrogate)",
                               _dotted(path)) from None


def _dotted(path: tuple) -> str | None:
    return ".".join(str(p) for p in path) or None
