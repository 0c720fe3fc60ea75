"""Korean moderation: precision and recall per category for jaju and for korcen alone, and throughput.

    python benchmarks/moderation_bench.py [--runs 5] [--sets dev,old,new] [--errors]

Reads three sets and prints markdown tables for docs/benchmarks.md:

- dev, tests/data/moderation_ko.jsonl: the lexicon and the intent rules were tuned on it;
- old held-out, tests/data/moderation_ko_holdout.jsonl: held out until issue 12's first round was scored,
  then seen, and tuned on from issue 12 item 2 (the intent rules) onwards;
- new held-out, tests/data/moderation_ko_holdout2.jsonl: written and committed before the intent rules,
  never tuned on, scored once at the end of item 2.

korcen is measured as its README recommends: its own `check` function over the raw text, with its
category functions giving per-category answers where it has a matching category. Throughput is the
median of `--runs` passes over all three sets, same process, same load, for jaju with and without the
intent rules (Kiwi clauses) and for korcen.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from jaju.korean import KoreanAnalyzer
from jaju.moderation.categories import CATEGORIES, PRIMARY
from jaju.moderation.service import ModerationService
from jaju.privacy.factory import build_analyzer

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SPLITS = {
    "dev": ("dev (tuned on)", "moderation_ko.jsonl"),
    "old": ("old held-out (tuned on since issue 12 item 2)", "moderation_ko_holdout.jsonl"),
    "new": ("new held-out (never tuned on)", "moderation_ko_holdout2.jsonl"),
}
TUNABLE = ("dev", "old")  # --errors prints misses on these only; the new held-out stays unseen
HARMFUL = tuple(PRIMARY)  # categories that make `flagged` true; pii_exposure is not one


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def everyday(korean: KoreanAnalyzer) -> list[str]:
    """Ordinary Korean with nothing to flag: chat prompts, knowledge-base questions and answers, the four
    National Assembly bills split into sentences. A false-positive count and a realistic throughput."""
    texts = [json.loads(line)["prompt"] for line in (DATA / "speech_prompts_ko.jsonl").read_text("utf-8").splitlines()
             if line.strip()]
    for name in ("kb_eval.jsonl", "kb_eval_paraphrase.jsonl"):
        for line in (DATA / name).read_text("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts += [row.get("question", ""), row.get("answer", "")]
    for bill in sorted((DATA / "kobill").glob("*.txt")):
        texts += [s for _, _, s in korean.sentences(bill.read_text("utf-8").replace("\n", " "))]
    return [t for t in texts if t.strip()]


def korcen_peer() -> tuple[Callable[[str], set[str]], Callable[[str], bool], dict[str, str]]:
    """korcen's answers: per-category sets (where it has the category) and its overall `check`."""
    from korcen import korcen

    # korcen's category functions -> jaju's categories (korcen has no violence, self-harm, illegal, PII).
    functions = {
        "general": "profanity_insult", "minor": "profanity_insult", "parent": "profanity_insult",
        "english": "profanity_insult", "japanese": "profanity_insult", "chinese": "profanity_insult",
        "special": "profanity_insult", "sexual": "sexual", "belittle": "hate_discrimination",
        "race": "hate_discrimination",
    }
    present = {name: getattr(korcen, name) for name in functions if callable(getattr(korcen, name, None))}

    def categories(text: str) -> set[str]:
        return {functions[name] for name, fn in present.items() if fn(text)}

    covered = {cat: "yes" for cat in set(functions[n] for n in present)}
    return categories, lambda text: bool(korcen.check(text)), covered


def prf(rows: list[dict], predicted: list[set[str]], category: str) -> tuple[float, float, float, int]:
    tp = sum(1 for r, p in zip(rows, predicted, strict=True) if category in r["labels"] and category in p)
    fp = sum(1 for r, p in zip(rows, predicted, strict=True) if category not in r["labels"] and category in p)
    fn = sum(1 for r, p in zip(rows, predicted, strict=True) if category in r["labels"] and category not in p)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1, tp + fn


def flag_prf(rows: list[dict], flags: list[bool]) -> tuple[float, float, float]:
    truth = [any(c in r["labels"] for c in HARMFUL) for r in rows]
    tp = sum(t and f for t, f in zip(truth, flags, strict=True))
    fp = sum(f and not t for t, f in zip(truth, flags, strict=True))
    fn = sum(t and not f for t, f in zip(truth, flags, strict=True))
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0)


def hard_negative_rate(rows: list[dict], flags: list[bool]) -> str:
    picked = [(r, f) for r, f in zip(rows, flags, strict=True) if r["kind"] in ("hn", "quote")]
    return f"{sum(f for _, f in picked)}/{len(picked)}"


def timed(fn: Callable[[str], object], texts: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sets", default="dev,old,new", help="comma-separated: dev, old, new (default: all three)")
    ap.add_argument("--errors", action="store_true",
                    help="print jaju's misses on the dev and old held-out sets (never the new held-out)")
    args = ap.parse_args()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = sorted(set(sets) - set(SPLITS))
    if unknown:
        ap.error(f"unknown set(s) {', '.join(unknown)}; use dev, old, new")

    korean = KoreanAnalyzer()
    pii = build_analyzer(korean)
    service = ModerationService(korean, pii)
    lexicon_only = ModerationService(korean, pii, intents=False)
    service.check_one("준비")  # warm-up: Kiwi's first call
    peer_categories, peer_check, covered = korcen_peer()

    for key in sets:
        split, name = SPLITS[key]
        rows = load(name)
        results = [service.check_one(r["text"]) for r in rows]
        ours = [set(r.detected) for r in results]
        theirs = [peer_categories(r["text"]) for r in rows]
        print(f"\n#### {split}: {name}, {len(rows)} lines\n")
        print("| category | n | jaju P | jaju R | jaju F1 | korcen P | korcen R | korcen F1 |")
        print("|---|---|---|---|---|---|---|---|")
        for cat in CATEGORIES:
            p, r, f, n = prf(rows, ours, cat)
            if cat in covered:
                kp, kr, kf, _ = prf(rows, theirs, cat)
                peer = f"{kp:.2f} | {kr:.2f} | {kf:.2f}"
            else:
                peer = "— | — | —"
            print(f"| {cat} | {n} | {p:.2f} | {r:.2f} | {f:.2f} | {peer} |")
        jf = [r.flagged for r in results]
        kf_ = [peer_check(r["text"]) for r in rows]
        jp, jr, jf1 = flag_prf(rows, jf)
        kp, kr, kf1 = flag_prf(rows, kf_)
        print(f"| any harmful (`flagged` / `check`) | {sum(any(c in r['labels'] for c in HARMFUL) for r in rows)} "
              f"| {jp:.2f} | {jr:.2f} | {jf1:.2f} | {kp:.2f} | {kr:.2f} | {kf1:.2f} |")
        print(f"\nhard negatives and quoted reports flagged: jaju {hard_negative_rate(rows, jf)}, "
              f"korcen {hard_negative_rate(rows, kf_)}")
        if args.errors and key in TUNABLE:
            for row, got in zip(rows, ours, strict=True):
                if set(row["labels"]) != got:
                    print(f"  miss: {row['kind']} want {sorted(row['labels'])} got {sorted(got)}: {row['text']}")

    texts = [r["text"] for k in sets for r in load(SPLITS[k][1])]
    size = sum(len(t.encode("utf-8")) for t in texts)
    print(f"\n| throughput ({len(texts)} lines, {size / 1024:.1f} KB, median of {args.runs}) | lines/s | KB/s |")
    print("|---|---|---|")
    for label, fn in (("jaju check_one, lexicon + intent rules (default)", service.check_one),
                      ("jaju check_one, lexicon only (intents=False)", lexicon_only.check_one),
                      ("korcen.check", peer_check)):
        secs = timed(fn, texts, args.runs)
        print(f"| {label} | {len(texts) / secs:.0f} | {size / 1024 / secs:.1f} |")

    plain = everyday(korean)
    size = sum(len(t.encode("utf-8")) for t in plain)
    flagged = sum(service.check_one(t).flagged for t in plain)
    print(f"\neveryday text ({len(plain)} lines, {size / 1024:.1f} KB: prompts, knowledge-base Q&A, four bills): "
          f"jaju flags {flagged}, korcen flags {sum(bool(peer_check(t)) for t in plain)}\n")
    print(f"| throughput on everyday text (median of {args.runs}) | lines/s | KB/s |")
    print("|---|---|---|")
    for label, fn in (("jaju check_one, lexicon + intent rules (default)", service.check_one),
                      ("jaju check_one, lexicon only (intents=False)", lexicon_only.check_one),
                      ("korcen.check", peer_check)):
        secs = timed(fn, plain, args.runs)
        print(f"| {label} | {len(plain) / secs:.0f} | {size / 1024 / secs:.1f} |")


if __name__ == "__main__":
    main()
