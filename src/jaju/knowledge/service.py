"""KnowledgeService: tenant-scoped knowledge bases, document ingestion, hybrid search."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from jaju.knowledge.chunking import Chunker
from jaju.knowledge.citations import Hit
from jaju.knowledge.config import KnowledgeSettings
from jaju.knowledge.crypto import Cipher, chunk_aad
from jaju.knowledge.dense import Embedder
from jaju.knowledge.errors import DocumentError, KnowledgeConflict, KnowledgeError, KnowledgeNotFound
from jaju.knowledge.filenames import PiiScanner, clean_filename, screen_filename
from jaju.knowledge.index import MODES, DocInfo, KbIndex
from jaju.knowledge.ingest import Ingestor, PreparedDocument
from jaju.knowledge.loader import IndexLoader
from jaju.knowledge.sealing import DocumentSeal, seal_plaintext_rows
from jaju.knowledge.tables import KnowledgeBase, KnowledgeChunk, KnowledgeDocument
from jaju.knowledge.terms import KiwiTerms
from jaju.korean.analyzer import KoreanAnalyzer
from jaju.privacy.policy import PrivacyPolicy
from jaju.store.db import Database
from jaju.store.tables import Tenant


class Reranker(Protocol):
    """Reorders (and may cut) the fused hits, e.g. with a cross-encoder; optional."""

    def rerank(self, query: str, hits: list[Hit]) -> list[Hit]: ...


@dataclass(slots=True)
class KbInfo:
    id: str
    tenant_id: str
    name: str
    description: str
    documents: int
    created_at: datetime

    def to_dict(self) -> dict:
        return {"id": self.id, "object": "knowledge_base", "name": self.name, "description": self.description,
                "documents": self.documents, "created_at": int(self.created_at.timestamp())}


@dataclass(slots=True)
class DocumentResult:
    """The outcome for one uploaded file: a document id, or the reason it was refused."""

    filename: str
    document: dict | None = None
    error: str | None = None
    code: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        if self.ok:
            return {"filename": self.filename, "status": "ok", "document": self.document}
        return {"filename": self.filename, "status": "error", "error": {"message": self.error, "code": self.code}}


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class KnowledgeService:
    """Knowledge bases for many tenants; every call names the tenant and sees only that tenant's data.

    `privacy` (the PrivacyService) gives the keyed subject digest the pseudonym vault uses and the
    recognizers that screen filenames; without it documents cannot be tagged with a data subject.
    """

    def __init__(self, db: Database, analyzer: KoreanAnalyzer, embedder: Embedder, cipher: Cipher,
                 settings: KnowledgeSettings | None = None, reranker: Reranker | None = None, *,
                 privacy: PiiScanner | None = None):
        self.db = db
        self.cipher = cipher
        self.embedder = embedder
        self.settings = settings or KnowledgeSettings()
        self.reranker = reranker
        self.privacy = privacy
        self.terms = KiwiTerms(analyzer)
        chunker = Chunker(analyzer, embedder.token_count, self.settings.chunk_tokens, self.settings.overlap_tokens,
                          self.settings.structure, self.settings.block_tokens)
        self.ingestor = Ingestor(chunker, self.terms, embedder, self.settings.max_file_bytes)
        self.seal = DocumentSeal(cipher, privacy.vault.subject_digest if privacy is not None else None)
        self.loader = IndexLoader(db, self.seal, embedder.dim)
        for store in db.all():
            seal_plaintext_rows(store, self.seal)
        self._indexes: dict[str, KbIndex] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # -- knowledge bases -------------------------------------------------------------------------

    def create_kb(self, tenant_id: str, name: str, description: str = "") -> KbInfo:
        name = name.strip()
        if not name or len(name) > 200:
            raise KnowledgeError("A knowledge base needs a name of 1 to 200 characters.")
        kb = KnowledgeBase(id=_new_id("kb"), tenant_id=tenant_id, name=name, description=description[:2000],
                           config={"chunk_tokens": self.settings.chunk_tokens,
                                   "overlap_tokens": self.settings.overlap_tokens,
                                   "structure": self.settings.structure,
                                   "block_tokens": self.settings.block_tokens,
                                   "embedding_model": self.embedder.model_id, "terms": self.terms.name},
                           version=0)
        try:
            with self.db.for_tenant(tenant_id).session() as s:
                if s.get(Tenant, tenant_id) is None:
                    raise KnowledgeNotFound(f"Tenant {tenant_id} does not exist.")
                s.add(kb)
                s.flush()
        except IntegrityError:
            raise KnowledgeConflict(f"A knowledge base named {name!r} already exists for this tenant.") from None
        return KbInfo(kb.id, tenant_id, kb.name, kb.description, 0, kb.created_at)

    def list_kbs(self, tenant_id: str) -> list[KbInfo]:
        with self.db.for_tenant(tenant_id).session() as s:
            kbs = s.scalars(select(KnowledgeBase).where(KnowledgeBase.tenant_id == tenant_id)
                            .order_by(KnowledgeBase.created_at, KnowledgeBase.id)).all()
            counts = self._doc_counts(s, [kb.id for kb in kbs])
        return [KbInfo(kb.id, kb.tenant_id, kb.name, kb.description, counts.get(kb.id, 0), kb.created_at)
                for kb in kbs]

    def get_kb(self, tenant_id: str, kb_id: str) -> KbInfo:
        with self.db.for_tenant(tenant_id).session() as s:
            kb = self._kb(s, tenant_id, kb_id)
            count = self._doc_counts(s, [kb.id]).get(kb.id, 0)
        return KbInfo(kb.id, kb.tenant_id, kb.name, kb.description, count, kb.created_at)

    def find_kb(self, ref: str, tenant_id: str | None = None) -> KbInfo:
        """An operator's lookup (CLI): a knowledge base by id, or by name within a tenant."""
        query = select(KnowledgeBase).where((KnowledgeBase.id == ref) | (KnowledgeBase.name == ref))
        if tenant_id is not None:
            query = query.where(KnowledgeBase.tenant_id == tenant_id)
        stores = [self.db.for_tenant(tenant_id)] if tenant_id is not None else self.db.all()
        found = []
        for store in stores:
            with store.session() as s:
                found.extend(s.scalars(query).all())
        if not found:
            raise KnowledgeNotFound(f"No knowledge base {ref!r}" + (f" for tenant {tenant_id}." if tenant_id else "."))
        if len(found) > 1:
            raise KnowledgeError(f"Several tenants have a knowledge base named {ref!r}; pass --tenant or the id.")
        return self.get_kb(found[0].tenant_id, found[0].id)

    def delete_kb(self, tenant_id: str, kb_id: str) -> None:
        with self._kb_lock(kb_id), self.db.for_tenant(tenant_id).session() as s:
            kb = self._kb(s, tenant_id, kb_id)
            doc_ids = select(KnowledgeDocument.id).where(KnowledgeDocument.kb_id == kb.id)
            s.execute(delete(KnowledgeChunk).where(KnowledgeChunk.document_id.in_(doc_ids)))
            s.execute(delete(KnowledgeDocument).where(KnowledgeDocument.kb_id == kb.id))
            s.delete(kb)
            self._indexes.pop(kb_id, None)

    # -- documents --------------------------------------------------------------------------------

    def add_documents(self, tenant_id: str, kb_id: str, files: Iterable[tuple[str, bytes]], *,
                      subject: str | None = None, labels: dict | None = None,
                      policy: PrivacyPolicy | None = None,
                      progress: Callable[[DocumentResult], None] | None = None) -> list[DocumentResult]:
        """Ingest each file on its own: a refused file is reported and leaves nothing behind.

        `policy` is the tenant's privacy policy, which screens filenames (the defaults when omitted).
        """
        self.get_kb(tenant_id, kb_id)  # 404 before any parsing work
        labels = _check_labels(labels)
        if subject is not None and self.privacy is None:
            raise KnowledgeError("Tagging documents with a data subject is not available: this deployment's "
                                 "knowledge service runs without the privacy service.")
        policy = policy or PrivacyPolicy()
        results = []
        for given, data in files:
            filename = clean_filename(given)
            try:
                if self.privacy is not None:
                    filename = screen_filename(self.privacy, tenant_id, filename, policy)
                prepared = self.ingestor.prepare(filename, data)
                info = self._store(tenant_id, kb_id, prepared, subject, labels)
                result = DocumentResult(filename, document=info)
            except (DocumentError, KnowledgeConflict) as e:
                shown = e.filename if isinstance(e, DocumentError) else filename
                result = DocumentResult(shown, error=str(e), code=getattr(e, "code", "conflict"))
            results.append(result)
            if progress is not None:
                progress(result)
        return results

    def _store(self, tenant_id: str, kb_id: str, p: PreparedDocument, subject: str | None, labels: dict) -> dict:
        doc_id = _new_id("doc")
        enc = self.cipher.encrypt
        with self._kb_lock(kb_id):
            with self.db.for_tenant(tenant_id).session() as s:
                kb = self._kb(s, tenant_id, kb_id)
                dup = s.scalar(select(KnowledgeDocument.id).where(KnowledgeDocument.kb_id == kb_id,
                                                                  KnowledgeDocument.sha256 == p.sha256))
                if dup is not None:
                    raise KnowledgeConflict(f"{p.filename}: the same file is already in this knowledge base "
                                            f"as document {dup}")
                doc = KnowledgeDocument(
                    id=doc_id, kb_id=kb_id, tenant_id=tenant_id, format=p.parsed.format,
                    sha256=p.sha256, size=p.size, pages=p.parsed.pages, chunks=len(p.chunks),
                    characters=len(p.parsed.text), labels=labels)
                self.seal.seal(doc, p.filename, p.parsed.title, subject)
                s.add(doc)
                s.flush()  # no ORM relationship orders the inserts, so the parent row goes first
                rows = []
                for chunk, terms, vector in zip(p.chunks, p.terms, p.vectors, strict=True):
                    payload = json.dumps({"text": chunk.text, "headings": list(chunk.headings), "terms": terms},
                                         ensure_ascii=False).encode()
                    rows.append(KnowledgeChunk(
                        document_id=doc_id, kb_id=kb_id, ordinal=chunk.ordinal, page=chunk.page,
                        char_start=chunk.start, char_end=chunk.end, tokens=chunk.tokens,
                        payload_enc=enc(tenant_id, payload, subject=subject,
                                        aad=chunk_aad(doc_id, chunk.ordinal, "chunk")),
                        vector_enc=enc(tenant_id, np.asarray(vector, dtype="<f4").tobytes(), subject=subject,
                                       aad=chunk_aad(doc_id, chunk.ordinal, "vector"))))
                s.add_all(rows)
                s.flush()
                version = self._bump(s, kb)
                chunk_ids = [r.id for r in rows]
                created = doc.created_at
            # Committed: now the in-memory index may show it (an index not yet loaded loads it anyway).
            index = self._indexes.get(kb_id)
            if index is not None:
                if index.version == version - 1:
                    info = DocInfo(doc_id, p.filename, p.parsed.title, p.parsed.format, labels, subject)
                    index.add_document(info, self.loader.entries(chunk_ids, p.terms, p.vectors))
                    index.version = version
                else:
                    index.version = -1  # another replica wrote meanwhile; resync on next search
        return {"id": doc_id, "object": "knowledge_document", "kb_id": kb_id, "filename": p.filename,
                "title": p.parsed.title, "format": p.parsed.format, "pages": p.parsed.pages,
                "chunks": len(p.chunks), "characters": len(p.parsed.text), "bytes": p.size,
                "sha256": p.sha256, "subject": subject, "labels": labels, "created_at": int(created.timestamp())}

    def list_documents(self, tenant_id: str, kb_id: str) -> list[dict]:
        with self.db.for_tenant(tenant_id).session() as s:
            self._kb(s, tenant_id, kb_id)
            docs = s.scalars(select(KnowledgeDocument).where(KnowledgeDocument.kb_id == kb_id)
                             .order_by(KnowledgeDocument.created_at, KnowledgeDocument.id)).all()
        return [self.doc_dict(d) for d in docs]

    def get_document(self, tenant_id: str, kb_id: str, doc_id: str) -> dict:
        with self.db.for_tenant(tenant_id).session() as s:
            return self.doc_dict(self._doc(s, tenant_id, kb_id, doc_id))

    def delete_document(self, tenant_id: str, kb_id: str, doc_id: str) -> None:
        with self._kb_lock(kb_id):
            with self.db.for_tenant(tenant_id).session() as s:
                doc = self._doc(s, tenant_id, kb_id, doc_id)
                s.execute(delete(KnowledgeChunk).where(KnowledgeChunk.document_id == doc.id))
                s.delete(doc)
                version = self._bump(s, self._kb(s, tenant_id, kb_id))
            self._forget(kb_id, [doc_id], version)

    def subject_documents(self, tenant_id: str, subject: str) -> list[dict]:
        """Every document of the tenant tagged with this data subject (for export)."""
        with self.db.for_tenant(tenant_id).session() as s:
            docs = s.scalars(select(KnowledgeDocument).where(
                KnowledgeDocument.tenant_id == tenant_id, self._subject_is(tenant_id, subject))).all()
            return [self.doc_dict(d) for d in docs]

    def erase_subject(self, tenant_id: str, subject: str) -> int:
        """Delete every document of the tenant tagged with this data subject; returns how many."""
        with self.db.for_tenant(tenant_id).session() as s:
            found = s.execute(select(KnowledgeDocument.kb_id, KnowledgeDocument.id).where(
                KnowledgeDocument.tenant_id == tenant_id, self._subject_is(tenant_id, subject))).all()
        for kb_id, doc_id in found:
            self.delete_document(tenant_id, kb_id, doc_id)
        return len(found)

    def _subject_is(self, tenant_id: str, subject: str):
        if self.seal.subject_digest is None:
            # Without the keyed digest nothing new is tagged; only rows older than migration 0008 can match.
            return KnowledgeDocument.subject == subject
        return KnowledgeDocument.subject_digest == self.seal.digest(tenant_id, subject)

    # -- search -----------------------------------------------------------------------------------

    def search(self, tenant_id: str, kb_ids: list[str], query: str, *, top_k: int | None = None,
               mode: str = "hybrid", filters: dict | None = None) -> list[Hit]:
        """The best chunks across the named knowledge bases, fused by reciprocal rank."""
        if mode not in MODES:
            raise KnowledgeError(f"Search mode must be one of {', '.join(MODES)}.")
        if not query.strip():
            raise KnowledgeError("The search query is empty.")
        k = top_k or self.settings.top_k
        # A reranker sees a deeper list than it returns, or it could only reorder what fusion chose.
        depth = max(k, self.settings.rerank_candidates) if self.reranker is not None else k
        with self.db.for_tenant(tenant_id).session() as s:
            kbs = [self._kb(s, tenant_id, kb_id) for kb_id in dict.fromkeys(kb_ids)]
            versions = {kb.id: kb.version for kb in kbs}
        terms = self.terms.terms(query) if mode != "dense" else None
        vector = self.embedder.query(query) if mode != "bm25" else None
        scored = []
        for kb_id, version in versions.items():
            with self._kb_lock(kb_id):
                index = self._ready(tenant_id, kb_id, version)
                doc_ids = _filter_docs(index, filters)
                for h in index.search(terms, vector, depth, mode, doc_ids, self.settings.candidates):
                    scored.append((kb_id, h, index.docs[h.document_id]))
        scored.sort(key=lambda t: -t[1].score)
        hits = self.loader.hits(tenant_id, scored[:depth])
        if self.reranker is not None:
            hits = self.reranker.rerank(query, hits)
        return hits[:k]

    # -- internals --------------------------------------------------------------------------------

    def _ready(self, tenant_id: str, kb_id: str, version: int) -> KbIndex:
        """The knowledge base's index, loaded on first use and brought up to the stored version."""
        index = self._indexes.get(kb_id)
        if index is None or index.wasted() > 0.5:
            index = self.loader.load(tenant_id, kb_id, version)
            self._indexes[kb_id] = index
        elif index.version != version:
            self.loader.sync(tenant_id, kb_id, index, version)
        return index

    def _forget(self, kb_id: str, doc_ids: list[str], version: int) -> None:
        index = self._indexes.get(kb_id)
        if index is None:
            return
        for doc_id in doc_ids:
            index.remove_document(doc_id)
        index.version = version if index.version == version - 1 else -1

    def _kb_lock(self, kb_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(kb_id, threading.Lock())

    @staticmethod
    def _bump(s, kb: KnowledgeBase) -> int:
        s.execute(update(KnowledgeBase).where(KnowledgeBase.id == kb.id).values(version=KnowledgeBase.version + 1))
        return s.scalar(select(KnowledgeBase.version).where(KnowledgeBase.id == kb.id))

    @staticmethod
    def _kb(s, tenant_id: str, kb_id: str) -> KnowledgeBase:
        # The same answer for "exists for another tenant" and "does not exist": ids must not leak.
        kb = s.scalar(select(KnowledgeBase).where(KnowledgeBase.id == kb_id, KnowledgeBase.tenant_id == tenant_id))
        if kb is None:
            raise KnowledgeNotFound(f"No knowledge base {kb_id!r}.")
        return kb

    @staticmethod
    def _doc(s, tenant_id: str, kb_id: str, doc_id: str) -> KnowledgeDocument:
        doc = s.scalar(select(KnowledgeDocument).where(
            KnowledgeDocument.id == doc_id, KnowledgeDocument.kb_id == kb_id, KnowledgeDocument.tenant_id == tenant_id))
        if doc is None:
            raise KnowledgeNotFound(f"No document {doc_id!r} in knowledge base {kb_id!r}.")
        return doc

    @staticmethod
    def _doc_counts(s, kb_ids: list[str]) -> dict[str, int]:
        if not kb_ids:
            return {}
        rows = s.execute(select(KnowledgeDocument.kb_id, func.count()).where(KnowledgeDocument.kb_id.in_(kb_ids))
                         .group_by(KnowledgeDocument.kb_id)).all()
        return {kb_id: n for kb_id, n in rows}

    def doc_dict(self, d: KnowledgeDocument) -> dict:
        fields = self.seal.open(d)
        return {"id": d.id, "object": "knowledge_document", "kb_id": d.kb_id, "filename": fields.filename,
                "title": fields.title, "format": d.format, "pages": d.pages, "chunks": d.chunks,
                "characters": d.characters, "bytes": d.size, "sha256": d.sha256, "subject": fields.subject,
                "labels": d.labels, "created_at": int(d.created_at.timestamp())}


def _check_labels(labels: dict | None) -> dict:
    """Labels are flat string keys to scalar values, so filters can compare them."""
    labels = dict(labels or {})
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str | int | float | bool):
            raise KnowledgeError("Document labels must map names to strings, numbers or booleans.")
    return labels


def _filter_docs(index: KbIndex, filters: dict | None) -> set[str] | None:
    """Document ids allowed by `filters`: document_ids, formats, and labels (value or list of values)."""
    if not filters:
        return None
    unknown = set(filters) - {"document_ids", "formats", "labels"}
    if unknown:
        raise KnowledgeError(f"Unknown search filter {sorted(unknown)[0]!r}; use document_ids, formats or labels.")
    allowed = set(index.docs)
    if "document_ids" in filters:
        allowed &= set(filters["document_ids"])
    if "formats" in filters:
        formats = set(filters["formats"])
        allowed = {d for d in allowed if index.docs[d].format in formats}
    for key, want in (filters.get("labels") or {}).items():
        wanted = set(want) if isinstance(want, list) else {want}
        allowed = {d for d in allowed if index.docs[d].labels.get(key) in wanted}
    return allowed
