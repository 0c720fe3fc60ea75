"""Offline Korean word lists from other packages, read as data (their code is never imported or run).

Licences, checked on the installed wheels (docs/moderation.md has the details):

- `nerv-filter==0.1.0`: MIT (LICENSE, "Copyright (c) 2026 NERV Team"); the list is
  `nerv_filter/dict/default_dic.json` (53 roots of profanity with 7,570 spelling variants).
- `korcen==1.0.3`: the wheel's LICENSE is the Apache License 2.0 (its README says MIT); the lists are
  Python literals in `korcen/korcen.py`. Importing korcen would run code at import time (it reads
  `custom_profanity_*.txt` from the current directory and loads an English list), so the literals are
  read with `ast` instead.

Both licences allow use and redistribution inside an Apache-2.0 project with their notices kept. A list
that is missing or has changed shape stops start-up with the reason; nothing is skipped silently.
"""

from __future__ import annotations

import ast
import json
import unicodedata
import warnings
from collections.abc import Callable
from importlib import resources
from importlib.util import find_spec
from pathlib import Path
from types import MappingProxyType

from jaju.moderation.lexicon import Lexicon, LexiconError, Term

EXTERNAL_SCORE = 0.8  # a word another project lists, without our context rules: a little below our own

# nerv-filter roots that name a condition rather than insult someone (장애 = disability); compounds
# built on them (장애새끼, 장애년) stay.
NERV_SKIP = frozenset({"장애", "개장애"})

# korcen's lists and the category each feeds. Its politics list (names of presidents among them), the
# emoji list and the English/Japanese/Chinese lists are not used.
KORCEN_LISTS = MappingProxyType({
    "GENERAL_PROFANITY_PATTERNS": "profanity_insult",
    "MINOR_PROFANITY_PATTERNS": "profanity_insult",
    "PARENT_PROFANITY_PATTERNS": "profanity_insult",
    "SEXUAL_PROFANITY_PATTERNS": "sexual",
    "RACE_PROFANITY_PATTERNS": "hate_discrimination",
    "BELITTLE_PROFANITY_PATTERNS": "profanity_insult",
})
# korcen's "belittle" list mixes insults with slurs against groups; these mark the group slurs.
HATE_ENDINGS = ("충", "녀", "남충", "징", "진")


def nerv_terms() -> list[Term]:
    """nerv-filter's profanity roots and variants (all nouns), as profanity_insult or sexual terms."""
    try:
        path = resources.files("nerv_filter.dict").joinpath("default_dic.json")
        data = json.loads(path.read_text(encoding="utf-8"))
        roots = data["basic"]
    except (ModuleNotFoundError, OSError, ValueError, KeyError) as e:
        raise LexiconError(f"nerv-filter's word list (nerv_filter/dict/default_dic.json) cannot be read: {e}. "
                           "Install nerv-filter==0.1.0 or leave 'nerv' out of the moderation word lists.") from None
    words: list[tuple[str, str]] = []
    for root, entry in roots.items():
        if root in NERV_SKIP:
            continue
        category = "sexual" if root in ("보지", "자지") else "profanity_insult"
        words.extend((w, category) for w in (root, *entry.get("variants", ())))
    return _terms(words, "nerv-filter", noun=True)


def korcen_terms() -> list[Term]:
    """korcen's Korean pattern lists, read from its source without running it."""
    spec = find_spec("korcen.korcen") if find_spec("korcen") is not None else None
    if spec is None or spec.origin is None:
        raise LexiconError("korcen is not installed. Install korcen==1.0.3 or leave 'korcen' out of the "
                           "moderation word lists.")
    with warnings.catch_warnings():
        # korcen 1.0.3's source has string escapes Python warns about ('\_': a DeprecationWarning on 3.11,
        # a SyntaxWarning from 3.12); the lists we read are unaffected.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    lists: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in KORCEN_LISTS:
            lists[node.targets[0].id] = ast.literal_eval(node.value)
    missing = sorted(set(KORCEN_LISTS) - set(lists))
    if missing:
        raise LexiconError(f"korcen's source no longer defines {', '.join(missing)}; pin korcen==1.0.3.")
    words: list[tuple[str, str]] = []
    for name, category in KORCEN_LISTS.items():
        for w in lists[name]:
            if name == "BELITTLE_PROFANITY_PATTERNS" and w.endswith(HATE_ENDINGS):
                category_w = "hate_discrimination"
            else:
                category_w = category
            words.append((w, category_w))
    return _terms(words, "korcen", noun=False)


def _terms(words: list[tuple[str, str]], source: str, noun: bool) -> list[Term]:
    # Other lists spell out their own variants, so they match literally on the rewritten views (after
    # digits, spacing, jamo and keyboard are undone) rather than on our folded skeletons.
    out: list[Term] = []
    seen: set[tuple[str, str]] = set()
    for word, category in words:
        key = "".join(unicodedata.normalize("NFKC", word).lower().split())
        if not all("가" <= c <= "힣" for c in key):
            continue  # mixed entries (si발, ㅅㅂ, 18놈) are handled by our own views and abbreviations
        if len(key) < 2 or (category, key) in seen:
            continue  # a single syllable is too ambiguous without context
        seen.add((category, key))
        out.append(Term(category, word, key, EXTERNAL_SCORE, noun=noun, source=source, exact=True))
    return out


WORDLISTS: MappingProxyType[str, Callable[[], list[Term]]] = MappingProxyType({
    "nerv": nerv_terms,
    "korcen": korcen_terms,
})


def with_wordlists(lexicon: Lexicon, names: tuple[str, ...]) -> Lexicon:
    """The lexicon plus the named lists; our own entries (with their context rules) win on the same key."""
    own = {(t.category, t.term) for t in lexicon.terms}
    extra: list[Term] = []
    for name in names:
        if name not in WORDLISTS:
            raise LexiconError(f"unknown moderation word list {name!r}; known: {', '.join(WORDLISTS)}.")
        for term in WORDLISTS[name]():
            if (term.category, term.term) not in own:
                own.add((term.category, term.term))
                extra.append(term)
    return lexicon.extend(extra)
