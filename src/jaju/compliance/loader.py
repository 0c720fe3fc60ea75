"""Read a pack file, keeping line numbers so a broken pack says file, line and reason."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from jaju.compliance.schema import Pack
from jaju.errors import ConfigError

Loc = tuple[str | int, ...]


class PackError(ConfigError):
    """A pack file is unreadable or breaks the schema; the message names file, line and reason."""


def builtin_path(filename: str) -> Path:
    """The path of a pack file shipped inside the package."""
    return Path(str(resources.files("jaju.compliance").joinpath("packs", filename)))


def load_pack(path: str | Path) -> Pack:
    """Load and validate one pack file, or raise PackError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PackError(f"{path}: pack file does not exist.") from None
    except UnicodeDecodeError as e:
        raise PackError(f"{path}: not UTF-8 text ({e.reason}). Save the pack as UTF-8.") from None
    return parse_pack(text, str(path))


def parse_pack(text: str, name: str) -> Pack:
    """Validate pack text; `name` is used in error messages."""
    data, lines = _compose(text, name)
    if not isinstance(data, dict):
        raise PackError(f"{name}:1: a pack must be a mapping of sections (id, title, pii, ...).")
    try:
        return Pack.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            # Pydantic adds "[key]" for a bad mapping key; the key's own line is what the reader needs.
            loc = tuple(p for p in err["loc"] if p != "[key]")
            where = ".".join(str(p) for p in loc) or "(top level)"
            problems.append(f"{name}:{_line_of(loc, lines)}: {where}: {err['msg']}")
        raise PackError("Invalid policy pack:\n" + "\n".join(problems)) from None


def _compose(text: str, name: str) -> tuple[Any, dict[Loc, int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        raise PackError(f"{name}:{line}: not valid YAML: {e.problem or e}.") from None
    except yaml.YAMLError as e:
        raise PackError(f"{name}:1: not valid YAML: {e}.") from None
    if node is None:
        raise PackError(f"{name}:1: the pack file is empty.")
    lines: dict[Loc, int] = {}
    return _build(node, (), lines, name), lines


def _build(node: yaml.Node, loc: Loc, lines: dict[Loc, int], name: str) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, name)
            if key in out:
                raise PackError(f"{name}:{key_node.start_mark.line + 1}: key {key!r} appears twice.")
            lines[loc + (key,)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, loc + (key,), lines, name)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loc + (i,), lines, name) for i, item in enumerate(node.value)]
    return _scalar(node, name)


def _scalar(node: yaml.Node, name: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise PackError(f"{name}:{node.start_mark.line + 1}: a mapping key must be a plain value.")
    # Anchors, aliases and tags beyond the safe set are refused by SafeConstructor.
    try:
        return yaml.SafeLoader("").construct_object(node)
    except yaml.constructor.ConstructorError as e:
        raise PackError(f"{name}:{node.start_mark.line + 1}: {e.problem}.") from None


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int:
    # A missing field has no line of its own: point at the nearest enclosing item.
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1
