"""Knowledge-base speed: ingestion (pages/s) and query latency at 10k and 100k chunks, with memory.

    OMP_NUM_THREADS=1 python -m benchmarks.knowledge_bench [--sizes 10000 100000] [--queries 200]

Ingestion runs the whole KnowledgeService (parse, Kiwi, chunk, e5 passages, AES-GCM, SQLite) on a PDF of
the Constitution. Latency runs on synthetic stores: chunk texts and Kiwi terms copied from the konlpy
corpus (so postings are as long as real Korean text makes them, pessimistically repeated), and RANDOM
unit vectors in place of e5 passage vectors (embedding 100k chunks at ~10-17 passages/s would take hours
on 2 cores; the vector search costs the same for any unit vectors). Query terms and query vectors are
real (Kiwi, e5 `query:`).
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from benchmarks.knowledge_common import build_chunks, corpus_root
from jaju.knowledge.config import KnowledgeSettings
from jaju.knowledge.crypto import chunk_aad
from jaju.knowledge.dense import E5Embedder
from jaju.knowledge.ingest import count_terms
from jaju.knowledge.parsers import parse_document
from jaju.knowledge.service import KnowledgeService
from jaju.knowledge.tables import KnowledgeBase, KnowledgeChunk, KnowledgeDocument
from jaju.knowledge.terms import KiwiTerms
from jaju.korean import KoreanAnalyzer
from jaju.store.db import Database
from jaju.store.tables import Tenant

QUERIES = Path(__file__).resolve().parent.parent / "tests" / "data" / "kb_eval.jsonl"
NANUM = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")


class AesGcmKeys:
    """AES-256-GCM per tenant, the cost shape of the sovereignty KeyService (one AEAD call per blob)."""

    def __init__(self):
        self._keys: dict[str, AESGCM] = {}
        self._master = secrets.token_bytes(32)

    def _aead(self, tenant_id: str, subject: str | None) -> AESGCM:
        name = f"{tenant_id}|{subject or ''}"
        if name not in self._keys:
            self._keys[name] = AESGCM(HKDF(hashes.SHA256(), 32, None, name.encode()).derive(self._master))
        return self._keys[name]

    def encrypt(self, tenant_id, data, *, subject=None, aad=b""):
        nonce = secrets.token_bytes(12)
        return nonce + self._aead(tenant_id, subject).encrypt(nonce, data, aad)

    def decrypt(self, tenant_id, data, *, subject=None, aad=b""):
        return self._aead(tenant_id, subject).decrypt(data[:12], data[12:], aad)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p))


def constitution_pdf() -> tuple[bytes, int]:
    from fpdf import FPDF

    text = (corpus_root() / "kolaw" / "constitution.txt").read_text(encoding="utf-8")
    pdf = FPDF()
    pdf.add_font("Nanum", fname=str(NANUM))
    pdf.set_font("Nanum", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, text)
    return bytes(pdf.output()), pdf.page_no()


def bench_ingest(analyzer, embedder) -> None:
    data, pages = constitution_pdf()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/kb.db")
        db.migrate()
        with db.session() as s:
            s.add(Tenant(id="t1", name="bench", jurisdiction="KR", status="active", settings={}))
        service = KnowledgeService(db, analyzer, embedder, AesGcmKeys(), KnowledgeSettings())
        kb = service.create_kb("t1", "헌법")
        t0 = time.perf_counter()
        [result] = service.add_documents("t1", kb.id, [("constitution.pdf", data)])
        elapsed = time.perf_counter() - t0
        chunks = result.document["chunks"]
        # Where the time goes, measured on the same text outside the service.
        t = time.perf_counter()
        doc = parse_document("c.pdf", data)
        t_parse = time.perf_counter() - t
        t = time.perf_counter()
        cs = service.ingestor.chunker.chunk(doc)
        t_chunk = time.perf_counter() - t
        t = time.perf_counter()
        service.terms.terms_many([c.text for c in cs])
        t_terms = time.perf_counter() - t
        db.dispose()
    print(f"ingest: constitution PDF, {pages} pages, {len(data) // 1024} KB -> {chunks} chunks in {elapsed:.1f} s "
          f"= {pages / elapsed:.2f} pages/s, {chunks / elapsed:.1f} chunks/s")
    print(f"  of which parse {t_parse:.2f} s, sentence split + chunk {t_chunk:.2f} s, Kiwi terms {t_terms:.2f} s, "
          f"the rest (~{elapsed - t_parse - t_chunk - t_terms:.1f} s) is e5 passage embedding and the store")


def synthetic_store(db: Database, keys: AesGcmKeys, size: int, base: list[tuple[str, dict]], dim: int) -> str:
    """A knowledge base with `size` encrypted chunks written straight to the store (100 per document)."""
    rng = np.random.default_rng(7)
    with db.session() as s:
        s.add(Tenant(id="t1", name="bench", jurisdiction="KR", status="active", settings={}))
        s.flush()
        s.add(KnowledgeBase(id="kb1", tenant_id="t1", name="synthetic", description="", config={}, version=1))
    per_doc = 100
    for d in range(0, size, per_doc):
        doc_id = f"doc{d:07d}"
        rows = []
        vecs = rng.standard_normal((per_doc, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        for i in range(per_doc):
            text, terms = base[(d + i) % len(base)]
            payload = json.dumps({"text": text, "headings": [], "terms": terms}, ensure_ascii=False).encode()
            rows.append({"document_id": doc_id, "kb_id": "kb1", "ordinal": i, "page": None, "char_start": 0,
                         "char_end": len(text), "tokens": 100,
                         "payload_enc": keys.encrypt("t1", payload, aad=chunk_aad(doc_id, i, "chunk")),
                         "vector_enc": keys.encrypt("t1", vecs[i].astype("<f4").tobytes(),
                                                    aad=chunk_aad(doc_id, i, "vector"))})
        with db.session() as s:
            s.add(KnowledgeDocument(id=doc_id, kb_id="kb1", tenant_id="t1", filename="", format="txt",
                                    sha256=doc_id, size=0, chunks=per_doc, characters=0, subject=None, labels={},
                                    title_enc=keys.encrypt("t1", b"synthetic", aad=chunk_aad(doc_id, -1, "title")),
                                    filename_enc=keys.encrypt("t1", f"{doc_id}.txt".encode(),
                                                              aad=chunk_aad(doc_id, -1, "filename"))))
            s.flush()
            s.execute(KnowledgeChunk.__table__.insert(), rows)
    return "kb1"


def bench_latency(analyzer, embedder, sizes: list[int], n_queries: int) -> None:
    _, chunks = build_chunks(analyzer, embedder, KnowledgeSettings())
    kiwi = KiwiTerms(analyzer)
    base = [(c.passage, count_terms(t)) for c, t in zip(chunks, kiwi.terms_many([c.passage for c in chunks]))]
    questions = [json.loads(x)["question"] for x in QUERIES.read_text(encoding="utf-8").splitlines() if x.strip()]
    questions = (questions * (n_queries // len(questions) + 1))[:n_queries]
    t = time.perf_counter()
    qterms = [kiwi.terms(q) for q in questions]
    t_kiwi = (time.perf_counter() - t) * 1000 / len(questions)
    t = time.perf_counter()
    qvecs = [embedder.query(q) for q in questions]
    t_e5 = (time.perf_counter() - t) * 1000 / len(questions)
    print(f"query analysis (independent of corpus size): Kiwi terms {t_kiwi:.2f} ms, e5 query embedding {t_e5:.1f} ms")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{tmp}/kb.db")
            db.migrate()
            keys = AesGcmKeys()
            t = time.perf_counter()
            synthetic_store(db, keys, size, base, embedder.dim)
            t_write = time.perf_counter() - t
            service = KnowledgeService(db, analyzer, embedder, keys, KnowledgeSettings())
            before = rss_mb()
            t = time.perf_counter()
            index = service._ready("t1", "kb1", 1)
            t_load = time.perf_counter() - t
            grown = rss_mb() - before
            timings = {"bm25": [], "dense": [], "hybrid": []}
            for mode in timings:
                for terms, vec in zip(qterms, qvecs):
                    t = time.perf_counter()
                    index.search(terms, vec, 5, mode, None, service.settings.candidates)
                    timings[mode].append((time.perf_counter() - t) * 1000)
            e2e = []
            for q in questions[: min(100, len(questions))]:
                t = time.perf_counter()
                service.search("t1", ["kb1"], q, top_k=5)
                e2e.append((time.perf_counter() - t) * 1000)
            db.dispose()
        print(f"{size:>7} chunks: store write {t_write:.1f} s, cold index load {t_load:.1f} s, "
              f"index RSS +{grown:.0f} MB (vectors {index.vectors.nbytes / 2**20:.0f} MB)")
        for mode, ms in timings.items():
            print(f"         index search {mode:<6} p50 {statistics.median(ms):6.2f} ms  p99 {pct(ms, 99):6.2f} ms")
        print(f"         service.search end to end (Kiwi + e5 query + hybrid + fetch/decrypt top 5) "
              f"p50 {statistics.median(e2e):6.2f} ms  p99 {pct(e2e, 99):6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        analyzer = KoreanAnalyzer()
    embedder = E5Embedder(num_threads=1)
    if not args.skip_ingest:
        bench_ingest(analyzer, embedder)
    bench_latency(analyzer, embedder, args.sizes, args.queries)


if __name__ == "__main__":
    main()
