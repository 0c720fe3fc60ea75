"""Precision, recall and F1 per entity type of jaju's analyzer on tests/data/pii_ko.jsonl.

Run: python benchmarks/privacy_eval.py [--errors]
"""

from __future__ import annotations

import sys
from pathlib import Path

from jaju.korean import KoreanAnalyzer
from jaju.privacy.analyzer import Analyzer
from jaju.privacy.evaluation import evaluate, load_jsonl
from jaju.privacy.recognizers import builtin_recognizers

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "pii_ko.jsonl"


def main() -> None:
    rows = load_jsonl(DATA)
    analyzer = Analyzer(builtin_recognizers(KoreanAnalyzer()))

    def predict(text: str):
        return [(r.start, r.end, r.entity_type) for r in analyzer.analyze(text)]

    print(f"{len(rows)} sentences, {sum(len(r['spans']) for r in rows)} gold spans")
    print(evaluate(rows, predict).table())
    if "--errors" in sys.argv:
        for row in rows:
            gold = sorted((s["start"], s["end"], s["entity"]) for s in row["spans"])
            pred = sorted(predict(row["text"]))
            if gold != pred:
                t = row["text"]
                print(row["id"], repr(t))
                print("   gold:", [(e, t[s:x]) for s, x, e in gold])
                print("   pred:", [(e, t[s:x]) for s, x, e in pred])


if __name__ == "__main__":
    main()
