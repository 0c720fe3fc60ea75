"""Builds and resyncs in-memory indexes from the store, and turns index hits into Hit objects."""

from __future__ import annotations

import json

import numpy as np
from sqlalchemy import select

from jaju.knowledge.citations import Hit
from jaju.knowledge.crypto import chunk_aad as _aad
from jaju.knowledge.index import DocInfo, IndexEntry, KbIndex, SlotHit
from jaju.knowledge.sealing import DocumentSeal
from jaju.knowledge.tables import KnowledgeBase, KnowledgeChunk, KnowledgeDocument
from jaju.store.db import Database


class IndexLoader:
    """Reads encrypted chunks back into KbIndex objects; the store is the source of truth."""

    def __init__(self, db: Database, seal: DocumentSeal, dim: int):
        self.db = db
        self.seal = seal
        self.cipher = seal.cipher
        self.dim = dim

    @staticmethod
    def entries(chunk_ids: list[int], terms: list[dict[str, int]], vectors: np.ndarray) -> list[IndexEntry]:
        return [IndexEntry(cid, t, v) for cid, t, v in zip(chunk_ids, terms, vectors, strict=True)]

    def _doc_info(self, d: KnowledgeDocument) -> DocInfo:
        fields = self.seal.open(d)
        return DocInfo(d.id, fields.filename, fields.title, d.format, dict(d.labels or {}), fields.subject)

    def _add_docs(self, s, tenant_id: str, index: KbIndex, docs: list[KnowledgeDocument]) -> None:
        dec = self.cipher.decrypt
        for d in docs:
            info = self._doc_info(d)
            rows = s.execute(select(KnowledgeChunk.id, KnowledgeChunk.ordinal, KnowledgeChunk.payload_enc,
                                    KnowledgeChunk.vector_enc)
                             .where(KnowledgeChunk.document_id == d.id).order_by(KnowledgeChunk.ordinal)).all()
            entries = []
            for cid, ordinal, payload_enc, vector_enc in rows:
                payload = json.loads(dec(tenant_id, payload_enc, subject=info.subject,
                                         aad=_aad(d.id, ordinal, "chunk")))
                vector = np.frombuffer(dec(tenant_id, vector_enc, subject=info.subject,
                                           aad=_aad(d.id, ordinal, "vector")), dtype="<f4")
                entries.append(IndexEntry(cid, payload["terms"], vector))
            index.add_document(info, entries)

    def load(self, tenant_id: str, kb_id: str, version: int) -> KbIndex:
        """A fresh index of every document in the knowledge base."""
        with self.db.for_tenant(tenant_id).session() as s:
            stored = s.scalar(select(KnowledgeBase.version).where(KnowledgeBase.id == kb_id))
            index = KbIndex(self.dim, stored if stored is not None else version)
            docs = s.scalars(select(KnowledgeDocument).where(KnowledgeDocument.kb_id == kb_id,
                                                             KnowledgeDocument.tenant_id == tenant_id)
                             .order_by(KnowledgeDocument.created_at, KnowledgeDocument.id)).all()
            self._add_docs(s, tenant_id, index, list(docs))
        return index

    def sync(self, tenant_id: str, kb_id: str, index: KbIndex, version: int) -> None:
        """Apply what other processes changed: drop deleted documents, load new ones."""
        with self.db.for_tenant(tenant_id).session() as s:
            stored = s.scalar(select(KnowledgeBase.version).where(KnowledgeBase.id == kb_id))
            current = set(s.scalars(select(KnowledgeDocument.id).where(KnowledgeDocument.kb_id == kb_id)).all())
            for doc_id in set(index.docs) - current:
                index.remove_document(doc_id)
            new = current - set(index.docs)
            if new:
                docs = s.scalars(select(KnowledgeDocument).where(KnowledgeDocument.id.in_(new))
                                 .order_by(KnowledgeDocument.created_at, KnowledgeDocument.id)).all()
                self._add_docs(s, tenant_id, index, list(docs))
            index.version = stored if stored is not None else version

    def hits(self, tenant_id: str, scored: list[tuple[str, SlotHit, DocInfo]]) -> list[Hit]:
        """Decrypt the text of the chosen chunks and describe where each came from."""
        if not scored:
            return []
        with self.db.for_tenant(tenant_id).session() as s:
            rows = {r.id: r for r in s.scalars(select(KnowledgeChunk).where(
                KnowledgeChunk.id.in_([h.chunk_id for _, h, _ in scored]))).all()}
        hits = []
        for kb_id, h, doc in scored:
            row = rows.get(h.chunk_id)
            if row is None:  # deleted between scoring and fetching
                continue
            payload = json.loads(self.cipher.decrypt(tenant_id, row.payload_enc, subject=doc.subject,
                                                     aad=_aad(doc.id, row.ordinal, "chunk")))
            hits.append(Hit(kb_id, doc.id, row.id, doc.filename, doc.title, payload["text"], payload["headings"],
                            row.page, row.char_start, row.char_end, h.score, h.bm25, h.dense))
        return hits
