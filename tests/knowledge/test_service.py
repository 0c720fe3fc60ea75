"""KnowledgeService on a real store, real Kiwi and real e5: ingest, search, delete, isolation, encryption."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jaju.knowledge.errors import KnowledgeConflict, KnowledgeError, KnowledgeNotFound
from jaju.knowledge.service import KnowledgeService
from jaju.knowledge.tables import KnowledgeChunk, KnowledgeDocument
from tests.knowledge.builders import build_hwp, build_hwpx

CONSTITUTION = """대한민국헌법

제1장 총강
제1조 ① 대한민국은 민주공화국이다.
②대한민국의 주권은 국민에게 있고, 모든 권력은 국민으로부터 나온다.
제3조 대한민국의 영토는 한반도와 그 부속도서로 한다.
제4장 정부
제70조 대통령의 임기는 5년으로 하며, 중임할 수 없다.
제67조 ① 대통령은 국민의 보통·평등·직접·비밀선거에 의하여 선출한다.
제5장 법원
제105조 ① 대법원장의 임기는 6년으로 하며, 중임할 수 없다.
제6장 헌법재판소
제112조 ① 헌법재판소 재판관의 임기는 6년으로 하며, 법률이 정하는 바에 의하여 연임할 수 있다.
"""

BILL = ["지방공무원법 일부개정법률안", "제안이유",
        "공무원이 자녀를 양육하기 위하여 육아휴직을 할 수 있는 자녀의 나이를 만 8세 이하로 확대함.",
        "부칙", "이 법은 공포한 날부터 시행한다."]


@pytest.fixture
def loaded(service):
    kb = service.create_kb("t_seoul", "법령집")
    results = service.add_documents("t_seoul", kb.id, [("헌법.txt", CONSTITUTION.encode()),
                                                      ("법률안.hwp", build_hwp(BILL))])
    assert all(r.ok for r in results), [r.error for r in results]
    return kb, {r.filename: r.document["id"] for r in results}


@pytest.mark.parametrize("query,expected", [
    ("대통령의 임기는", "대통령의 임기는 5년"),
    ("대통령 임기", "대통령의 임기는 5년"),
    ("대통령임기는 몇 년인가요?", "대통령의 임기는 5년"),
    ("헌법재판소재판관 임기", "헌법재판소 재판관의 임기"),
    ("육아휴직 자녀 나이", "육아휴직을 할 수 있는 자녀의 나이"),
])
@pytest.mark.parametrize("mode", ["bm25", "hybrid"])
def test_korean_queries_with_particles_and_spacing(service, loaded, query, expected, mode):
    kb, _ = loaded
    hits = service.search("t_seoul", [kb.id], query, top_k=3, mode=mode)
    assert hits and expected in hits[0].text


def test_hit_spans_point_into_the_document(service, loaded):
    kb, docs = loaded
    hit = service.search("t_seoul", [kb.id], "대법원장의 임기", top_k=1)[0]
    assert hit.document_id == docs["헌법.txt"]
    assert CONSTITUTION.replace("\r", "")[hit.start:hit.end] == hit.text
    assert hit.headings == ["제5장 법원"] or "제5장 법원" in hit.text


def test_dense_search_finds_paraphrase(service, loaded):
    kb, _ = loaded
    hits = service.search("t_seoul", [kb.id], "나라의 최고 권력은 누구에게 있나", top_k=3, mode="dense")
    assert any("주권은 국민에게" in h.text for h in hits)


def test_delete_document_removes_it_from_every_index(service, loaded, db):
    kb, docs = loaded
    service.delete_document("t_seoul", kb.id, docs["법률안.hwp"])
    for mode in ("bm25", "dense", "hybrid"):
        hits = service.search("t_seoul", [kb.id], "육아휴직 자녀 나이", top_k=10, mode=mode)
        assert all(h.document_id != docs["법률안.hwp"] for h in hits)
    with db.session() as s:
        assert s.scalars(select(KnowledgeChunk).where(KnowledgeChunk.document_id == docs["법률안.hwp"])).all() == []
    # A fresh process (new service, same store) agrees.
    fresh = KnowledgeService(db, service.terms._analyzer, service.embedder, service.cipher, service.settings)
    hits = fresh.search("t_seoul", [kb.id], "육아휴직", top_k=10, mode="bm25")
    assert all(h.document_id != docs["법률안.hwp"] for h in hits)


def test_other_process_changes_are_picked_up(service, loaded, db):
    kb, docs = loaded
    other = KnowledgeService(db, service.terms._analyzer, service.embedder, service.cipher, service.settings)
    assert other.search("t_seoul", [kb.id], "대통령 임기", top_k=1)  # loads its index
    service.add_documents("t_seoul", kb.id, [("공고.txt", "주민센터 민원 접수는 오전 9시부터 시작합니다.".encode())])
    service.delete_document("t_seoul", kb.id, docs["헌법.txt"])
    hits = other.search("t_seoul", [kb.id], "민원 접수 시간", top_k=5, mode="bm25")
    assert hits[0].filename == "공고.txt"
    assert all(h.document_id != docs["헌법.txt"] for h in other.search("t_seoul", [kb.id], "대통령", mode="bm25"))


def test_failed_file_leaves_nothing_and_batch_continues(service, db):
    kb = service.create_kb("t_seoul", "혼합")
    results = service.add_documents("t_seoul", kb.id, [
        ("좋은.hwpx", build_hwpx("안내", [("p", "주차장은 지하 2층에 있습니다.")])),
        ("깨진.pdf", b"%PDF-1.7 broken"),
        ("암호.hwp", build_hwp(["기밀"], flags=0x02)),
        ("다른.txt", "도서관은 월요일에 쉽니다.".encode()),
    ])
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].code == "corrupt_document" and "깨진.pdf" in results[1].error
    assert results[2].code == "encrypted_document"
    docs = service.list_documents("t_seoul", kb.id)
    assert sorted(d["filename"] for d in docs) == ["다른.txt", "좋은.hwpx"]
    with db.session() as s:
        assert len(s.scalars(select(KnowledgeDocument)).all()) == 2
        chunk_docs = set(s.scalars(select(KnowledgeChunk.document_id)).all())
    assert chunk_docs == {d["id"] for d in docs}


def test_duplicate_file_is_reported(service):
    kb = service.create_kb("t_seoul", "중복")
    same = "같은 내용".encode()
    first, second = service.add_documents("t_seoul", kb.id, [("a.txt", same), ("b.txt", same)])
    assert first.ok and not second.ok and second.code == "conflict"


def test_tenant_isolation_by_every_id(service, loaded):
    kb, docs = loaded
    doc_id = docs["헌법.txt"]
    assert service.list_kbs("t_busan") == []
    calls = [
        lambda: service.get_kb("t_busan", kb.id),
        lambda: service.delete_kb("t_busan", kb.id),
        lambda: service.list_documents("t_busan", kb.id),
        lambda: service.get_document("t_busan", kb.id, doc_id),
        lambda: service.delete_document("t_busan", kb.id, doc_id),
        lambda: service.search("t_busan", [kb.id], "대통령 임기"),
        lambda: service.add_documents("t_busan", kb.id, [("x.txt", "침입".encode())]),
    ]
    for call in calls:
        with pytest.raises(KnowledgeNotFound):
            call()
    # Busan's own knowledge base cannot reach Seoul's document either.
    own = service.create_kb("t_busan", "법령집")  # same name, other tenant: allowed
    with pytest.raises(KnowledgeNotFound):
        service.get_document("t_busan", own.id, doc_id)
    assert service.search("t_busan", [own.id], "대통령 임기") == []
    assert len(service.search("t_seoul", [kb.id], "대통령 임기")) > 0


def test_text_terms_and_vectors_encrypted_at_rest(service, loaded, db, cipher):
    kb, _ = loaded
    with db.session() as s:
        rows = s.scalars(select(KnowledgeChunk)).all()
        titles = s.scalars(select(KnowledgeDocument.title_enc)).all()
    blob = b"".join(r.payload_enc + r.vector_enc for r in rows) + b"".join(titles)
    for word in ("대통령", "임기", "육아휴직", "헌법"):
        assert word.encode() not in blob
        assert word.encode("utf-16-le") not in blob


def test_erase_subject_deletes_documents_and_their_keys_matter(service, db, cipher):
    kb = service.create_kb("t_seoul", "민원")
    service.add_documents("t_seoul", kb.id, [("홍길동.txt", "홍길동 님의 민원: 도로 보수를 요청합니다.".encode())],
                          subject="subj-42")
    service.add_documents("t_seoul", kb.id, [("일반.txt", "도로 보수 일정은 구청 누리집에 공지합니다.".encode())])
    assert service.erase_subject("t_seoul", "subj-42") == 1
    names = [d["filename"] for d in service.list_documents("t_seoul", kb.id)]
    assert names == ["일반.txt"]
    assert all(h.filename == "일반.txt" for h in service.search("t_seoul", [kb.id], "도로 보수 민원"))


def test_metadata_filters(service):
    kb = service.create_kb("t_seoul", "부서별")
    a, b = service.add_documents("t_seoul", kb.id, [("복지.txt", "기초연금 신청은 주민센터에서 합니다.".encode())],
                                 labels={"부서": "복지과"}) + \
        service.add_documents("t_seoul", kb.id, [("세무.txt", "지방세 신청은 구청 세무과에서 합니다.".encode())],
                              labels={"부서": "세무과"})
    hits = service.search("t_seoul", [kb.id], "신청", filters={"labels": {"부서": "세무과"}})
    assert [h.filename for h in hits] == ["세무.txt"]
    hits = service.search("t_seoul", [kb.id], "신청", filters={"document_ids": [a.document["id"]]})
    assert [h.filename for h in hits] == ["복지.txt"]
    with pytest.raises(KnowledgeError, match="Unknown search filter"):
        service.search("t_seoul", [kb.id], "신청", filters={"color": "red"})


def test_kb_names_unique_per_tenant_and_unknown_tenant(service):
    service.create_kb("t_seoul", "규정")
    with pytest.raises(KnowledgeConflict):
        service.create_kb("t_seoul", "규정")
    with pytest.raises(KnowledgeNotFound, match="Tenant"):
        service.create_kb("t_nowhere", "규정")


def test_delete_kb(service, loaded, db):
    kb, _ = loaded
    service.delete_kb("t_seoul", kb.id)
    with pytest.raises(KnowledgeNotFound):
        service.search("t_seoul", [kb.id], "대통령")
    with db.session() as s:
        assert s.scalars(select(KnowledgeChunk)).all() == []


def test_rerank_hook(db, analyzer, embedder, cipher, settings, loaded):
    class Reverse:
        def rerank(self, query, hits):
            return list(reversed(hits))

    kb, _ = loaded
    plain = KnowledgeService(db, analyzer, embedder, cipher, settings)
    reranked = KnowledgeService(db, analyzer, embedder, cipher, settings, reranker=Reverse())
    a = plain.search("t_seoul", [kb.id], "임기", top_k=3, mode="bm25")
    b = reranked.search("t_seoul", [kb.id], "임기", top_k=3, mode="bm25")
    assert [h.chunk_id for h in b] == [h.chunk_id for h in reversed(a)]


@pytest.mark.postgres
def test_postgresql_store(pg_db, analyzer, embedder, cipher, settings):
    service = KnowledgeService(pg_db, analyzer, embedder, cipher, settings)
    kb = service.create_kb("t_seoul", "법령집")
    [result] = service.add_documents("t_seoul", kb.id, [("헌법.txt", CONSTITUTION.encode())])
    assert result.ok
    hits = service.search("t_seoul", [kb.id], "대통령 임기", top_k=1)
    assert "대통령의 임기는 5년" in hits[0].text
    fresh = KnowledgeService(pg_db, analyzer, embedder, cipher, settings)
    assert fresh.search("t_seoul", [kb.id], "대통령 임기", top_k=1)[0].chunk_id == hits[0].chunk_id
    service.delete_document("t_seoul", kb.id, result.document["id"])
    assert fresh.search("t_seoul", [kb.id], "대통령 임기") == []
    with pytest.raises(KnowledgeNotFound):
        service.search("t_busan", [kb.id], "대통령 임기")
