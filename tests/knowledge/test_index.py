"""BM25 and the per-KB index: incremental add and remove, compaction, RRF, filters."""

from __future__ import annotations

import numpy as np
import pytest

from jaju.knowledge.bm25 import BM25Index
from jaju.knowledge.fusion import rrf, top_k
from jaju.knowledge.index import DocInfo, IndexEntry, KbIndex

DOCS = [["대통령", "임기", "5년"], ["국회의원", "임기", "4년"], ["대법원장", "임기", "6년"], ["국회", "입법권"]]


def _built(docs):
    index = BM25Index()
    for slot, terms in enumerate(docs):
        index.add(slot, terms)
    return index


def test_removed_slots_score_zero_and_statistics_follow():
    full, index = _built(DOCS), _built(DOCS)
    index.remove(0)
    scores = index.scores(["임기", "국회"])
    assert scores[0] == 0
    # After removal the remaining slots score exactly as in an index built without slot 0.
    rebuilt = _built(DOCS[1:])
    np.testing.assert_allclose(scores[1:], rebuilt.scores(["임기", "국회"]), rtol=1e-6)
    index.compact_postings()
    np.testing.assert_allclose(index.scores(["임기", "국회"])[1:], rebuilt.scores(["임기", "국회"]), rtol=1e-6)
    assert full.scores(["임기"])[0] > 0


def test_slots_must_be_appended_in_order():
    with pytest.raises(ValueError):
        BM25Index().add(3, ["임기"])


def test_top_k_respects_mask_and_threshold():
    scores = np.array([0.0, 3.0, 1.0, 2.0], dtype=np.float32)
    assert [s for s, _ in top_k(scores, 2, min_score=0.0)] == [1, 3]
    assert [s for s, _ in top_k(scores, 5, np.array([True, False, True, True]), 0.0)] == [3, 2]


def test_rrf_rewards_agreement():
    fused = rrf([[1, 2, 3], [3, 1, 4]])
    assert [s for s, _ in fused][:2] == [1, 3]


def test_kb_index_remove_document_and_filter():
    index = KbIndex(dim=3)
    vec = np.eye(3, dtype=np.float32)
    index.add_document(DocInfo("a", "a.txt", "A", "txt"), [IndexEntry(10, {"임기": 1, "대통령": 1}, vec[0])])
    index.add_document(DocInfo("b", "b.hwp", "B", "hwp"), [IndexEntry(11, {"임기": 1, "국회의원": 1}, vec[1])])
    hits = index.search(["임기"], vec[0], 5, "hybrid")
    assert [h.chunk_id for h in hits] == [10, 11]
    assert [h.chunk_id for h in index.search(["임기"], vec[0], 5, "hybrid", doc_ids={"b"})] == [11]
    index.remove_document("a")
    for mode in ("bm25", "dense", "hybrid"):
        assert [h.chunk_id for h in index.search(["임기"], vec[0], 5, mode)] == [11]
    assert index.wasted() == 0.5


def test_settings_errors_name_the_key():
    from jaju.errors import ConfigError
    from jaju.knowledge.config import KnowledgeSettings

    with pytest.raises(ConfigError, match="knowledge.chunk_tokens"):
        KnowledgeSettings.from_section({"chunk_tokens": 5})
    with pytest.raises(ConfigError, match="overlap_tokens must be smaller"):
        KnowledgeSettings.from_section({"chunk_tokens": 64, "overlap_tokens": 64})
    assert KnowledgeSettings.from_section({}).chunk_tokens == 120
