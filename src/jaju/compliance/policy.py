"""The effective policy of a tenant: packs merged strictest-wins, each rule remembering its sources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from jaju.compliance.entities import ENTITIES, SURFACES, Action
from jaju.compliance.schema import Cited, Disclosure, Duty, Marking, Pack
from jaju.moderation.categories import CATEGORIES as MODERATION_CATEGORIES
from jaju.moderation.categories import DEFAULT_ACTION as MODERATION_DEFAULT
from jaju.moderation.categories import STAGES as MODERATION_STAGES
from jaju.moderation.categories import stricter as moderation_stricter

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Source:
    """The pack and article a rule comes from."""

    pack: str
    article: str
    binding: bool = True

    def __str__(self) -> str:
        return f"{self.pack} {self.article}" + ("" if self.binding else " (guidance)")


@dataclass(frozen=True, slots=True)
class Rule(Generic[T]):
    """One effective value and every pack that put it there."""

    value: T
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """What the law asks of one tenant; built by `merge`, read by privacy, routing, labelling and retention."""

    jurisdiction: str
    packs: tuple[str, ...]
    high_impact: bool
    pii: dict[str, dict[str, Rule[Action]]]
    processing: Rule[frozenset[str]] | None  # None: no pack restricts where content is processed
    storage: Rule[frozenset[str]] | None
    adequacy: Rule[frozenset[str]] | None
    transfer_bases: dict[str, Rule[str]]
    content_max_days: Rule[int] | None
    logs_min_days: Rule[int] | None
    logs_max_days: Rule[int] | None
    disclosures: tuple[Rule[Disclosure], ...]
    markings: tuple[Rule[Marking], ...]
    rights: dict[str, Rule[int | None]]
    incident_hours: Rule[int] | None
    duties: tuple[Rule[Duty], ...]
    conflicts: tuple[str, ...] = ()
    # category -> stage ("input" / "output") -> "allow" | "flag" | "block"; strictest pack wins.
    moderation: dict[str, dict[str, Rule[str]]] = field(default_factory=dict)

    def moderation_action(self, category: str, stage: str) -> str:
        """What moderation does with a detected category; "flag" where no pack rules on it."""
        rule = self.moderation.get(category, {}).get(stage)
        return rule.value if rule is not None else MODERATION_DEFAULT

    def privacy_actions(self, floor: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, dict[str, str]]:
        """`{entity: {model_input: action, storage: action, logs: action}}` for the privacy engine.

        `floor` (same shape, e.g. the privacy engine's defaults) raises any pack action that is laxer:
        a pack's "allow" means the law asks for nothing, not that protection must be switched off.
        """
        out = {e: {s: r.value.value for s, r in surfaces.items()} for e, surfaces in self.pii.items()}
        for entity, surfaces in (floor or {}).items():
            for surface, action in surfaces.items():
                if surface not in SURFACES:
                    continue
                current = out.setdefault(entity, {}).get(surface)
                if current is None or Action(action).stricter(Action(current)):
                    out[entity][surface] = Action(action).value
        return out

    @property
    def marking_kinds(self) -> frozenset[str]:
        return frozenset(k for m in self.markings for k in m.value.kinds)

    @property
    def watermark_required(self) -> bool:
        return "watermark" in self.marking_kinds

    @property
    def full_event_logs(self) -> bool:
        """High-impact uses keep every event (AI Act Art. 12, AI Basic Act Art. 34(1)5)."""
        return self.high_impact

    def notices(self, lang: str, when: str | None = None) -> list[str]:
        """Disclosure texts in one language, optionally only those shown at `when`."""
        return [d.value.text[lang] for d in self.disclosures if when is None or d.value.when == when]

    def explain(self) -> list[tuple[str, str, tuple[Source, ...]]]:
        """Every effective rule as (name, value, sources), in a stable order."""
        rows: list[tuple[str, str, tuple[Source, ...]]] = []
        for entity, surfaces in self.pii.items():
            for surface, r in surfaces.items():
                rows.append((f"pii.{entity}.{surface}", r.value.value, r.sources))
        for category, stages in self.moderation.items():
            for stage, r in stages.items():
                rows.append((f"moderation.{category}.{stage}", r.value, r.sources))
        for name in ("processing", "storage", "adequacy"):
            r = getattr(self, name)
            if r is not None:
                rows.append((f"residency.{name}", ", ".join(sorted(r.value)) or "none (packs disagree)", r.sources))
        for basis, r in self.transfer_bases.items():
            rows.append((f"transfer_basis.{basis}", "accepted", r.sources))
        for name in ("content_max_days", "logs_min_days", "logs_max_days"):
            r = getattr(self, name)
            if r is not None:
                rows.append((f"retention.{name}", str(r.value), r.sources))
        for r in self.disclosures:
            rows.append((f"disclosure.{r.value.id}", r.value.when, r.sources))
        for r in self.markings:
            rows.append((f"marking.{r.value.id}", ", ".join(r.value.kinds), r.sources))
        for right, r in self.rights.items():
            rows.append((f"right.{right}", f"within {r.value} days" if r.value else "yes", r.sources))
        if self.incident_hours is not None:
            rows.append(("incident.notify_within_hours", str(self.incident_hours.value), self.incident_hours.sources))
        for r in self.duties:
            rows.append((f"high_impact.{r.value.id}", r.value.evidence, r.sources))
        return rows

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view: every rule with its value and sources."""
        return {"jurisdiction": self.jurisdiction, "packs": list(self.packs), "high_impact": self.high_impact,
                "conflicts": list(self.conflicts),
                "rules": [{"rule": n, "value": v, "sources": [{"pack": s.pack, "article": s.article,
                                                               "binding": s.binding} for s in src]}
                          for n, v, src in self.explain()]}


def _src(pack: Pack, cited: Cited | str) -> Source:
    if isinstance(cited, str):
        return Source(pack.id, cited, pack.binding)
    return Source(pack.id, cited.article, pack.binding and cited.binding)


def _pick(candidates: list[tuple[T, Source]], better) -> Rule[T] | None:
    """The best value by `better(a, b) -> a is better`, with the sources of every pack that gave it."""
    if not candidates:
        return None
    best = candidates[0][0]
    for value, _ in candidates[1:]:
        if better(value, best):
            best = value
    return Rule(best, tuple(s for v, s in candidates if v == best))


def _intersect(candidates: list[tuple[frozenset[str], Source]]) -> Rule[frozenset[str]] | None:
    if not candidates:
        return None
    value = frozenset.intersection(*(v for v, _ in candidates))
    return Rule(value, tuple(s for _, s in candidates))


def merge(packs: Sequence[Pack], jurisdiction: str, high_impact: bool = False) -> Policy:
    """Merge packs strictest-wins: stricter PII and moderation actions (block > flag > allow), fewer places,
    shorter content and longer log retention."""
    pii: dict[str, dict[str, Rule[Action]]] = {}
    for entity in ENTITIES:
        per_surface: dict[str, Rule[Action]] = {}
        for surface in SURFACES:
            cands = [(r.action(surface), _src(p, r.article_for(surface))) for p in packs
                     if (r := p.pii_rule(entity)) is not None]
            if (rule := _pick(cands, lambda a, b: a.stricter(b))) is not None:
                per_surface[surface] = rule
        if per_surface:
            pii[entity] = per_surface

    moderation: dict[str, dict[str, Rule[str]]] = {}
    for category in MODERATION_CATEGORIES:
        for stage in MODERATION_STAGES:
            cands = [(r.action(stage), _src(p, r)) for p in packs if (r := p.moderation.get(category)) is not None]
            if (rule := _pick(cands, moderation_stricter)) is not None:
                moderation.setdefault(category, {})[stage] = rule

    res = [(p, p.residency) for p in packs if p.residency is not None]
    processing = _intersect([(frozenset(r.processing), _src(p, r)) for p, r in res])
    storage = _intersect([(frozenset(r.storage), _src(p, r)) for p, r in res])
    adequacy = _intersect([(frozenset(r.adequacy), _src(p, r)) for p, r in res])
    transfer_bases: dict[str, Rule[str]] = {}
    if res:
        common = set.intersection(*({b.basis for b in r.transfer_bases} for _, r in res))
        for _, r in res[:1]:
            for b in r.transfer_bases:
                if b.basis in common:
                    found = [(p, x) for p, rr in res for x in rr.transfer_bases if x.basis == b.basis]
                    transfer_bases[b.basis] = Rule("; ".join(x.conditions for _, x in found if x.conditions),
                                                   tuple(_src(p, x) for p, x in found))

    ret = [(p, p.retention) for p in packs if p.retention is not None]
    content = _pick([(r.content_max_days.days, _src(p, r.content_max_days)) for p, r in ret if r.content_max_days],
                    lambda a, b: a < b)
    logs_min = _pick([(r.logs_min_days.days, _src(p, r.logs_min_days)) for p, r in ret if r.logs_min_days],
                     lambda a, b: a > b)
    logs_max = _pick([(r.logs_max_days.days, _src(p, r.logs_max_days)) for p, r in ret if r.logs_max_days],
                     lambda a, b: a < b)

    disclosures = tuple(Rule(d, (_src(p, d),)) for p in packs for d in p.labelling.disclosures
                        if d.applies_to != "high_impact" or high_impact)
    markings = tuple(Rule(m, (_src(p, m),)) for p in packs for m in p.labelling.markings)

    rights: dict[str, Rule[int | None]] = {}
    for name in dict.fromkeys(r.right for p in packs for r in p.rights):
        cands = [(r.deadline_days, _src(p, r)) for p in packs for r in p.rights if r.right == name]
        dated = [c for c in cands if c[0] is not None]
        # A deadline from any pack binds; the shortest wins, and packs without one still cite the right.
        best = min((c[0] for c in dated), default=None)
        rights[name] = Rule(best, tuple(s for d, s in cands if d == best or d is None))

    incident = _pick([(p.incident.notify_within_hours, _src(p, p.incident)) for p in packs if p.incident],
                     lambda a, b: a < b)
    duties = tuple(Rule(d, (_src(p, d),)) for p in packs for d in p.high_impact)

    conflicts = []
    for name, rule in (("processing", processing), ("storage", storage)):
        if rule is not None and not rule.value:
            conflicts.append(f"residency.{name}: no jurisdiction is allowed by every pack "
                             f"({', '.join(s.pack for s in rule.sources)}); content cannot be placed anywhere.")
    if logs_min and logs_max and logs_max.value < logs_min.value:
        conflicts.append(f"retention: logs must be kept {logs_min.value} days ({logs_min.sources[0]}) "
                         f"but deleted after {logs_max.value} ({logs_max.sources[0]}).")
    return Policy(jurisdiction=jurisdiction, packs=tuple(p.id for p in packs), high_impact=high_impact,
                  pii=pii, processing=processing, storage=storage, adequacy=adequacy,
                  transfer_bases=transfer_bases, content_max_days=content, logs_min_days=logs_min,
                  logs_max_days=logs_max, disclosures=disclosures, markings=markings, rights=rights,
                  incident_hours=incident, duties=duties, conflicts=tuple(conflicts), moderation=moderation)
