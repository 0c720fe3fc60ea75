"""Retrieval quality: recall@1/5/10 and MRR for each retriever, on each question set.

    python -m benchmarks.knowledge_eval [--chunk-tokens 120 --overlap-tokens 24 --block-tokens 200] [--no-structure]
                                        [--rerank] [--sets kb_eval kb_eval_paraphrase] [--show-misses]

Sets (tests/data): kb_eval.jsonl (169 questions, the tuning set: settings were chosen on it) and
kb_eval_paraphrase.jsonl (112 held-out questions written before the structure-aware chunker, in words
other than the answer's; never used to choose anything). Corpus: the Constitution and ten National
Assembly bills shipped in konlpy==0.6.0, parsed and chunked by jaju's own parser and chunker
(`--no-structure`: the sentence-window chunker used before). A hit is relevant when it comes from the
question's source file and covers at least half of one occurrence of the answer passage. `--rerank`
adds hybrid retrieval whose top 20 are reordered by the RerankService's e5 scorer (jaju.rerank).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.knowledge_common import answer_spans, build_chunks, embed_cached
from jaju.knowledge.bm25 import BM25Index
from jaju.knowledge.config import KnowledgeSettings
from jaju.knowledge.dense import E5Embedder
from jaju.knowledge.fusion import top_k
from jaju.knowledge.index import DocInfo, IndexEntry, KbIndex
from jaju.knowledge.ingest import count_terms
from jaju.knowledge.terms import KiwiTerms, WhitespaceTerms
from jaju.korean import KoreanAnalyzer

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = ("kb_eval", "kb_eval_paraphrase")
K = 10
RERANK_DEPTH = 20


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {"R@1": sum(r is not None and r <= 1 for r in ranks) / n,
            "R@5": sum(r is not None and r <= 5 for r in ranks) / n,
            "R@10": sum(r is not None and r <= 10 for r in ranks) / n,
            "MRR": sum(1.0 / r for r in ranks if r is not None) / n}


class _MemoPassages:
    """The e5 engine with passage vectors remembered per text: questions share candidate chunks."""

    def __init__(self, engine):
        self._e5, self._seen = engine, {}

    def query(self, text):
        return self._e5.query(text)

    def token_count(self, text, query=True):
        return self._e5.token_count(text, query)

    def passage(self, texts):
        new = [t for t in dict.fromkeys(texts) if t not in self._seen]
        if new:
            self._seen.update(zip(new, self._e5.passage(new), strict=True))
        return np.asarray([self._seen[t] for t in texts], dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunk-tokens", type=int, default=KnowledgeSettings().chunk_tokens)
    parser.add_argument("--overlap-tokens", type=int, default=KnowledgeSettings().overlap_tokens)
    parser.add_argument("--block-tokens", type=int, default=KnowledgeSettings().block_tokens)
    parser.add_argument("--no-structure", action="store_true", help="sentence windows only (the old chunker)")
    parser.add_argument("--rerank", action="store_true", help="add hybrid + e5 rerank of the top 20")
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    settings = KnowledgeSettings(chunk_tokens=args.chunk_tokens, overlap_tokens=args.overlap_tokens,
                                 block_tokens=args.block_tokens, structure=not args.no_structure)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        analyzer = KoreanAnalyzer()
    embedder = E5Embedder(num_threads=1)
    docs, chunks = build_chunks(analyzer, embedder, settings)
    passages = [c.passage for c in chunks]
    t0 = time.perf_counter()
    vectors = embed_cached(embedder, passages)
    t_embed = time.perf_counter() - t0

    kiwi, ws = KiwiTerms(analyzer), WhitespaceTerms()
    kiwi_terms = [count_terms(t) for t in kiwi.terms_many(passages)]
    ws_index = BM25Index()
    for slot, p in enumerate(passages):
        ws_index.add(slot, ws.terms(p))
    index = KbIndex(embedder.dim)
    # One pseudo-document per chunk keeps slot == chunk position, so the product's search is used as is.
    for slot, (terms, vec) in enumerate(zip(kiwi_terms, vectors, strict=True)):
        index.add_document(DocInfo(f"c{slot}", chunks[slot].source, "", "txt"), [IndexEntry(slot, terms, vec)])

    def relevant(q: dict) -> set[int]:
        spans = answer_spans(docs[q["source"]].text, q["answer"])
        out = set()
        for slot, c in enumerate(chunks):
            if c.source != q["source"]:
                continue
            for s, e in spans:
                if min(e, c.chunk.end) - max(s, c.chunk.start) >= 0.5 * (e - s):
                    out.add(slot)
        return out

    reranker = None
    if args.rerank:
        from jaju.rerank.scorers import E5Scorer  # the scorer /v1/rerank uses, on this benchmark's engine

        reranker = E5Scorer(_MemoPassages(embedder.engine))

    def reranked(q: str) -> list[int]:
        fused = [h.chunk_id for h in index.search(kiwi.terms(q), embedder.query(q), RERANK_DEPTH, "hybrid",
                                                  candidates=settings.candidates)]
        scores = reranker.score(q, [chunks[slot].chunk.text for slot in fused]).values
        return [fused[i] for i in sorted(range(len(fused)), key=lambda i: -scores[i])][:K]

    retrievers = {
        "whitespace BM25": lambda q: [s for s, _ in top_k(ws_index.scores(ws.terms(q)), K, min_score=0.0)],
        "Kiwi BM25": lambda q: [h.chunk_id for h in index.search(kiwi.terms(q), None, K, "bm25")],
        "dense (e5-small)": lambda q: [h.chunk_id for h in index.search(None, embedder.query(q), K, "dense")],
        "hybrid (RRF)": lambda q: [h.chunk_id for h in index.search(kiwi.terms(q), embedder.query(q), K, "hybrid",
                                                                     candidates=settings.candidates)],
    }
    if reranker is not None:
        retrievers["hybrid + e5 rerank"] = reranked
    tokens = sorted(c.chunk.tokens for c in chunks)
    print(f"corpus: {len(docs)} files, {sum(len(d.text) for d in docs.values())} characters, {len(chunks)} chunks "
          f"(chunk_tokens={settings.chunk_tokens}, overlap_tokens={settings.overlap_tokens}, "
          f"structure={settings.structure}, block_tokens={settings.block_tokens}; "
          f"median {tokens[len(tokens) // 2]} tokens a chunk); "
          f"passage embedding {t_embed:.1f} s (0 if cached)")
    for name in args.sets:
        questions = [json.loads(line) for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
                     if line.strip()]
        print(f"\n{name}: {len(questions)} questions")
        evaluate(questions, retrievers, relevant, args.show_misses)


def evaluate(questions: list[dict], retrievers: dict, relevant, show_misses: bool) -> None:
    print(f"{'retriever':<20} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR':>6} {'ms/query':>9}")
    gold = {q["id"]: relevant(q) for q in questions}
    missing = [q["id"] for q in questions if not gold[q["id"]]]
    if missing:
        sys.exit(f"answers not covered by any chunk: {missing}")
    for name, retrieve in retrievers.items():
        ranks, t0 = [], time.perf_counter()
        for q in questions:
            ranked = retrieve(q["question"])
            rank = next((i for i, slot in enumerate(ranked, start=1) if slot in gold[q["id"]]), None)
            ranks.append(rank)
            if show_misses and name == "hybrid (RRF)" and (rank is None or rank > 1):
                print(f"  miss {q['id']} rank={rank} {q['question']}")
        ms = (time.perf_counter() - t0) * 1000 / len(questions)
        m = metrics(ranks)
        print(f"{name:<20} {m['R@1']:6.3f} {m['R@5']:6.3f} {m['R@10']:6.3f} {m['MRR']:6.3f} {ms:9.1f}")


if __name__ == "__main__":
    main()
