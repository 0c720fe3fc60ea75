"""The lexicon classifier: every rewritten view matched against the lexicon, each hit checked in context."""

from __future__ import annotations

from dataclasses import dataclass, field

from jaju.korean.analyzer import KoreanAnalyzer
from jaju.moderation.context import Reading, innocent, reported
from jaju.moderation.intent import could_match, read_intents
from jaju.moderation.lexicon import Lexicon, Term
from jaju.moderation.normalize import View, skeleton_of, views

THRESHOLD = 0.5


@dataclass(frozen=True, slots=True)
class Hit:
    """A term found in the text: original offsets, and whether it was only quoted or reported."""

    term: Term
    start: int
    end: int
    quoted: bool


@dataclass
class Detection:
    """Per-category scores of one text, the OpenAI sub-keys its terms set, and the hits behind them."""

    scores: dict[str, float] = field(default_factory=dict)
    subs: dict[str, float] = field(default_factory=dict)
    quoted: set[str] = field(default_factory=set)  # categories only mentioned in reported speech
    hits: list[Hit] = field(default_factory=list)

    def add(self, category: str, score: float) -> None:
        # Independent pieces of evidence combine like probabilities: two weak hits outweigh one.
        prev = self.scores.get(category, 0.0)
        self.scores[category] = round(1 - (1 - prev) * (1 - score), 4)


class LexiconClassifier:
    """Finds lexicon terms in every view of a text; Kiwi (shared, passed in) vetoes innocent readings.

    With `intents` on, the intent rules (intent.py) also read each view's clauses, which catches
    threats, wishes to die and contraband deals phrased in ways the lexicon does not list.
    """

    def __init__(self, lexicon: Lexicon, korean: KoreanAnalyzer, intents: bool = True):
        self.lexicon = lexicon
        self.korean = korean
        self.intents = intents
        self._rules: dict[tuple[str, str, float, str | None], Term] = {}

    def detect(self, text: str) -> Detection:
        found: dict[tuple[str, int, int], Hit] = {}
        keys: list[str] = []
        candidates: list[tuple[Term, View, int, int]] = []
        views_ = views(text)
        for view in views_:
            skel = skeleton_of(view)
            keys.append(skel.key)
            for term, s, e in self.lexicon.find(skel.key):
                if skel.aligned(s, e):  # whole syllables only: not 좆 in 조|직
                    candidates.append((term, view, skel.view_start(s), skel.index[e - 1] + 1))
            spaceless = [(c, k) for k, c in enumerate(view.text) if not c.isspace()]
            flat = "".join(c for c, _ in spaceless)
            for term, s, e in self.lexicon.find(flat, exact=True):
                candidates.append((term, view, spaceless[s][1], spaceless[e - 1][1] + 1))
        readings: dict[int, Reading] = {}
        vetoed: set[tuple[int, int]] = set()  # (view, start) of our own terms found innocent
        # Our own terms (with their context rules) first; another list's longer word starting where one of
        # ours was found innocent is innocent too (병신년 the year, once 병신|년 is).
        candidates.sort(key=lambda c: c[0].source != "jaju")
        for term, view, vs, ve in candidates:
            if term.needs is not None and not self.lexicon.has_group(term.needs, keys):
                continue
            reading = readings.get(id(view))
            if reading is None:
                reading = readings[id(view)] = Reading(view.text, self.korean.morphemes(view.text))
            if term.source != "jaju" and (id(view), vs) in vetoed:
                continue
            if innocent(term, reading, vs, ve):
                if term.source == "jaju":
                    vetoed.add((id(view), vs))
                continue
            start, end = view.span(vs, ve)
            slot = (term.category, start, end)
            if slot not in found:
                found[slot] = Hit(term, start, end, reported(text, start, end))
        if self.intents:
            found = self._with_intents(text, views_, readings, found)
        det = Detection()
        for hit in _longest(found.values()):
            det.hits.append(hit)
            if hit.quoted:
                continue
            det.add(hit.term.category, hit.term.score)
            if hit.term.sub:
                det.subs[hit.term.sub] = max(det.subs.get(hit.term.sub, 0.0), hit.term.score)
        direct = {h.term.category for h in det.hits if not h.quoted}
        det.quoted = {h.term.category for h in det.hits if h.quoted} - direct
        return det

    def _with_intents(self, text: str, views_: list[View], readings: dict[int, Reading],
                      found: dict[tuple[str, int, int], Hit]) -> dict[tuple[str, int, int], Hit]:
        """Add the intent rules' hits; drop hits of categories used innocently; mark others' words as quoted."""
        innocent: set[str] = set()
        mentions: list[tuple[int, int, str | None]] = []
        for view in views_:
            reading = readings.get(id(view))
            if reading is None:
                if not could_match(view.text):
                    continue  # no lexicon candidate and no rule word: Kiwi is not needed
                reading = readings[id(view)] = Reading(view.text, self.korean.morphemes(view.text))
            intents = read_intents(reading.morphemes)
            innocent |= intents.innocent
            mentions.extend((*view.span(s, e), cat) for s, e, cat in intents.mentions)
            for ih in intents.hits:
                start, end = view.span(ih.start, ih.end)
                slot = (ih.category, start, end)
                if slot not in found:
                    found[slot] = Hit(self._rule(ih.category, ih.rule, ih.score, ih.sub), start, end,
                                      reported(text, start, end))
        out = {}
        for slot, hit in found.items():
            if slot[0] in innocent:
                continue
            if not hit.quoted and any(s < hit.end and hit.start < e and cat in (None, slot[0])
                                      for s, e, cat in mentions):
                hit = Hit(hit.term, hit.start, hit.end, True)
            out[slot] = hit
        return out

    def _rule(self, category: str, rule: str, score: float, sub: str | None) -> Term:
        """An intent rule as a lexicon-like term, so hits, scores and sub-keys combine the same way."""
        key = (category, rule, score, sub)
        term = self._rules.get(key)
        if term is None:
            term = self._rules[key] = Term(category, rule, rule, score, sub=sub, source="intent")
        return term


def _longest(hits) -> list[Hit]:
    """Per category, drop hits inside a longer hit of the same category (개새끼 also contains 새끼)."""
    ordered = sorted(hits, key=lambda h: (h.term.category, h.start, -(h.end - h.start)))
    kept: list[Hit] = []
    for h in ordered:
        if kept and kept[-1].term.category == h.term.category and kept[-1].start <= h.start and h.end <= kept[-1].end:
            continue
        kept.append(h)
    return kept
