"""Load moderation word lists into one index keyed by folded skeletons.

The built-in list is jaju's own `lexicon/ko.yaml`. A list that fails to load stops start-up with the
file and the entry at fault; nothing is skipped silently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from jaju.errors import ConfigError
from jaju.moderation.categories import CATEGORIES, SUB_KEYS
from jaju.moderation.normalize import skeleton

DEFAULT_SCORE = 0.9
_FIELDS = {"term", "score", "noun", "verb", "word_start", "except_next", "except_prev", "needs", "sub"}


class LexiconError(ConfigError):
    """A word list is unreadable or an entry is malformed; the message names file and entry."""


@dataclass(frozen=True, slots=True)
class Term:
    """One word or phrase of one category, with the context rules that keep it from misfiring."""

    category: str
    term: str
    key: str  # folded skeleton (normalize.skeleton), spaces removed
    score: float = DEFAULT_SCORE
    noun: bool = False
    word_start: bool = False
    except_next: tuple[str, ...] = ()
    except_prev: tuple[str, ...] = ()
    needs: str | None = None
    sub: str | None = None
    source: str = "jaju"
    exact: bool = False  # match `key` literally on the rewritten text (other projects' lists), not folded
    verb: bool = False   # refuse the hit when Kiwi reads it as a noun (고려하여 is not 꼴려)


@dataclass
class Lexicon:
    """Terms indexed by the first two characters of their key, and named groups of words."""

    terms: list[Term]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # group -> keys
    _index: dict[str, list[Term]] = field(default_factory=dict, init=False, repr=False)
    _exact: dict[str, list[Term]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        folded: dict[str, list[Term]] = defaultdict(list)
        exact: dict[str, list[Term]] = defaultdict(list)
        for t in self.terms:
            (exact if t.exact else folded)[t.key[:2]].append(t)
        self._index = dict(folded)
        self._exact = dict(exact)

    def find(self, key: str, exact: bool = False) -> Iterator[tuple[Term, int, int]]:
        """(term, start, end) of every term in a skeleton key (or, `exact`, in spaceless view text)."""
        index = self._exact if exact else self._index
        for i in range(len(key) - 1):
            for t in index.get(key[i:i + 2], ()):
                if key.startswith(t.key, i):
                    yield t, i, i + len(t.key)

    def has_group(self, group: str, keys: Iterable[str]) -> bool:
        words = self.groups[group]
        return any(w in k for k in keys for w in words)

    def extend(self, terms: Iterable[Term]) -> Lexicon:
        return Lexicon(self.terms + list(terms), self.groups)


def builtin_path() -> Path:
    return Path(str(resources.files("jaju.moderation").joinpath("lexicon", "ko.yaml")))


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Read a lexicon file (the built-in one by default), or raise LexiconError."""
    path = Path(path) if path is not None else builtin_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise LexiconError(f"{path}: cannot read the moderation lexicon: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
        raise LexiconError(f"{path}: a lexicon needs a `categories` mapping of category -> terms.")
    groups = {}
    for name, words in (data.get("groups") or {}).items():
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise LexiconError(f"{path}: group {name!r} must be a list of words.")
        groups[name] = tuple(skeleton(w) for w in words)
    terms: list[Term] = []
    seen: dict[tuple[str, str], str] = {}
    for category, entries in data["categories"].items():
        if category not in CATEGORIES:
            raise LexiconError(f"{path}: unknown category {category!r}; use one of {', '.join(CATEGORIES)}.")
        for entry in entries or []:
            term = _term(path, category, entry, groups)
            # Two spellings that fold to one key would each need the other's context rules.
            if (category, term.key) in seen:
                raise LexiconError(f"{path}: {category}: {term.term!r} folds to the same form as "
                                   f"{seen[(category, term.key)]!r}; keep one entry.")
            seen[(category, term.key)] = term.term
            terms.append(term)
    return Lexicon(terms, groups)


def _term(path: Path, category: str, entry: Any, groups: dict[str, tuple[str, ...]]) -> Term:
    if isinstance(entry, str):
        entry = {"term": entry}
    where = f"{path}: {category}: {entry!r}"
    if not isinstance(entry, dict) or not isinstance(entry.get("term"), str) or not entry["term"].strip():
        raise LexiconError(f"{where}: an entry is a word or a mapping with a `term`.")
    unknown = set(entry) - _FIELDS
    if unknown:
        raise LexiconError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}.")
    score = entry.get("score", DEFAULT_SCORE)
    if not isinstance(score, (int, float)) or not 0 < score <= 1:
        raise LexiconError(f"{where}: score must be a number in (0, 1].")
    if entry.get("needs") is not None and entry["needs"] not in groups:
        raise LexiconError(f"{where}: needs names no group ({', '.join(groups) or 'none defined'}).")
    if entry.get("sub") is not None and SUB_KEYS.get(entry["sub"]) != category:
        raise LexiconError(f"{where}: sub {entry['sub']!r} does not refine {category}.")
    key = skeleton(entry["term"])
    if len(key) < 2:
        raise LexiconError(f"{where}: the term is too short to match safely.")
    return Term(category, entry["term"], key, float(score), bool(entry.get("noun", False)),
                bool(entry.get("word_start", False)), tuple(entry.get("except_next") or ()),
                tuple(entry.get("except_prev") or ()), entry.get("needs"), entry.get("sub"),
                verb=bool(entry.get("verb", False)))
