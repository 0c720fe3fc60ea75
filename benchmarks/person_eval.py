"""PERSON in free text: precision, recall, F1 of jaju and ko-pii on the dev and unseen sets.

tests/data/pii_names_dev.txt was read while tuning the name rules; tests/data/pii_names_unseen.txt was
written first and kept out of tuning (its errors are printed only with --errors unseen).

Run: python benchmarks/person_eval.py [--errors dev|unseen] [--no-kopii]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks are scripts; reuse the test data loader

from jaju.korean import KoreanAnalyzer  # noqa: E402
from jaju.privacy.evaluation import evaluate  # noqa: E402
from jaju.privacy.factory import build_analyzer  # noqa: E402
from tests.data.pii_names import DEV, UNSEEN, load  # noqa: E402


def kopii_predict(text: str):
    import ko_pii

    return [(r.start, r.end, "PERSON") for r in ko_pii.detect_all(text) if r.label == "PERSON"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", choices=("dev", "unseen"))
    ap.add_argument("--no-kopii", action="store_true")
    args = ap.parse_args()
    analyzer = build_analyzer(KoreanAnalyzer())

    def jaju_predict(text: str):
        return [(r.start, r.end, r.entity_type) for r in analyzer.analyze(text, entities=["PERSON"])]

    tools = [("jaju", jaju_predict)] + ([] if args.no_kopii else [("ko-pii", kopii_predict)])
    print(f"{'set':<8}{'tool':<8}{'docs':>6}{'names':>7}{'tp':>5}{'fp':>5}{'fn':>5}{'P':>7}{'R':>7}{'F1':>7}")
    for label, path in (("dev", DEV), ("unseen", UNSEEN)):
        rows = load(path)
        for name, predict in tools:
            c = evaluate(rows, predict, entities=["PERSON"]).per_entity.get("PERSON")
            print(f"{label:<8}{name:<8}{len(rows):>6}{c.tp + c.fn:>7}{c.tp:>5}{c.fp:>5}{c.fn:>5}"
                  f"{c.precision:>7.3f}{c.recall:>7.3f}{c.f1:>7.3f}")
        if args.errors == label:
            for row in rows:
                gold = {(s["start"], s["end"]) for s in row["spans"]}
                pred = {(s, e) for s, e, _ in jaju_predict(row["text"])}
                if gold != pred:
                    t = row["text"]
                    print(f"-- {row['id']} [{row['genre']}]")
                    print("   missed:", [t[s:e] for s, e in sorted(gold - pred)])
                    print("   extra: ", [t[s:e] for s, e in sorted(pred - gold)])


if __name__ == "__main__":
    main()
