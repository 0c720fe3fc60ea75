"""Services: every long-lived object jaju needs, built once from Settings (in `build_services`) and closed once.

Objects get what they need through their constructors; nothing is patched on afterwards. The tenant's
law (`TenantLaws`) is built before the transfer service, the stores and the safeguards that ask it.
Heavy, optional parts (Kiwi, the privacy engine, knowledge bases) are `Lazy` and load on first use.
An API worker of `jaju serve --workers N` is built here too, from its `WorkerRole`: models served by the
engine process, a rate limit shared by the run's workers, metrics served by the supervisor.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from jaju.api.ratelimit import Limiter, RateLimiter, RedisRateLimiter
from jaju.audit import AuditLog
from jaju.audit.keys import DeploymentKey
from jaju.audit.log import load_hmac_secret
from jaju.audit.retention import AuditLogTarget
from jaju.batches.retention import BatchRetention
from jaju.batches.service import BatchService
from jaju.compliance.factory import build_compliance_service, build_retention
from jaju.compliance.law import TenantLaw, TenantLaws
from jaju.compliance.retention import RetentionService, SqlTableTarget
from jaju.compliance.runtime import ComplianceService
from jaju.context import RequestContext, RequestOptions, new_request_id
from jaju.conversations.store import MessageStore
from jaju.conversations.tables import StoredCompletion
from jaju.engine.catalog import EMBEDDING_MODEL
from jaju.engine.ipc.worker import EngineProcess, WorkerRole
from jaju.engine.registry import ModelRegistry
from jaju.files.service import FileService
from jaju.files.tables import StoredFile
from jaju.inference import InferenceService
from jaju.knowledge.factory import build_knowledge_service
from jaju.knowledge.service import KnowledgeService
from jaju.knowledge.subjects import KnowledgeSubjectData
from jaju.korean import KoreanAnalyzer
from jaju.korean.segmenter import SegmentService
from jaju.korean.summarize import SummaryService
from jaju.lazy import Lazy
from jaju.metrics import Metrics
from jaju.moderation.service import ModerationService
from jaju.privacy.factory import build_privacy_service
from jaju.privacy.service import PrivacyService
from jaju.privacy.subjects import SubjectService
from jaju.privacy.tables import PseudonymEntry
from jaju.rerank.factory import build_rerank_service
from jaju.rerank.remote import routed_remote
from jaju.rerank.service import RerankService
from jaju.responses.service import ResponsesService
from jaju.responses.store import ResponseStore
from jaju.responses.tables import StoredResponse
from jaju.safeguards import Safeguards
from jaju.settings import JURISDICTION_CODES, Settings
from jaju.sovereignty.config import kek_providers
from jaju.sovereignty.factory import Sovereignty, build_sovereignty
from jaju.sovereignty.kek import local_providers
from jaju.sovereignty.keys import KeyService, TenantJurisdictions
from jaju.sovereignty.stores import TenantStores
from jaju.store import Database
from jaju.telemetry import Telemetry, build_telemetry
from jaju.tenancy.keys import ApiKeyService
from jaju.tenancy.principal import Principal
from jaju.tenancy.tenants import TenantService
from jaju.tenancy.usage import UsageMeter

log = logging.getLogger("jaju")


@dataclass
class Services:
    settings: Settings
    db: Database
    key: DeploymentKey
    audit: AuditLog
    tenants: TenantService
    keys: ApiKeyService
    usage: UsageMeter
    metrics: Metrics
    models: ModelRegistry
    ratelimit: Limiter
    keyring: KeyService
    laws: TenantLaws
    sovereignty: Sovereignty
    stores: TenantStores
    compliance: ComplianceService
    retention: RetentionService | None
    messages: MessageStore
    inference: InferenceService
    telemetry: Telemetry
    lazy_korean: Lazy[KoreanAnalyzer]
    lazy_privacy: Lazy[PrivacyService]
    lazy_knowledge: Lazy[KnowledgeService]
    lazy_moderation: Lazy[ModerationService]
    lazy_rerank: Lazy[RerankService]
    responses: ResponsesService
    summaries: SummaryService
    segmenter: SegmentService
    files: FileService
    batches: BatchService
    engine: EngineProcess | None  # an API worker's engine process; None: models load in this process
    metrics_bind: str | None  # where this process serves /metrics on a port of its own (host:port)

    # --- the request path -------------------------------------------------------------------
    def context(self, principal: Principal, prefix: str, options: RequestOptions | None = None,
                span_name: str | None = None, auth_ns: tuple[int, int] | None = None,
                ignored_params: Sequence[str] = ()) -> RequestContext:
        """One request's context: its id, the tenant's law (read once) and its jaju options.

        `auth_ns` is when authentication started and ended (it runs before the context exists).
        """
        rid = new_request_id(prefix)
        span = self.telemetry.request(span_name or prefix, start_ns=auth_ns[0] if auth_ns else None,
                                      **{"jaju.request_id": rid, "jaju.tenant": principal.tenant_id})
        if auth_ns is not None:
            span.record("auth", *auth_ns)
        with span.child("policy"):
            law = self.laws.of(principal.tenant_id)
        return RequestContext(principal, law, rid, options or RequestOptions(), span,
                              ignored_params=tuple(ignored_params))

    def law(self, tenant_id: str) -> TenantLaw:
        """The tenant's law: packs merged strictest-wins, PII rules, quota (briefly cached)."""
        return self.laws.of(tenant_id)

    # --- heavy parts, built on first use ----------------------------------------------------
    @property
    def korean(self) -> KoreanAnalyzer:
        return self.lazy_korean.get()

    @property
    def privacy(self) -> PrivacyService:
        return self.lazy_privacy.get()

    @property
    def knowledge(self) -> KnowledgeService:
        return self.lazy_knowledge.get()

    @property
    def moderation(self) -> ModerationService:
        return self.lazy_moderation.get()

    @property
    def rerank(self) -> RerankService:
        return self.lazy_rerank.get()

    def warm_up(self) -> None:
        """Build what every chat request needs (Kiwi, the PII recognizers) before the first one arrives.

        Otherwise the first request a serving process takes pays ~2-3 s: Kiwi builds its model on its
        first analysis, and the recognizers compile their patterns on theirs.
        """
        self.korean.morphemes("대한민국의 수도는 서울이고, 민수는 부산에 삽니다.")
        self.privacy.analyze("홍길동 님의 연락처는 010-1234-5678입니다.")

    @cached_property
    def subjects(self) -> SubjectService:
        """Everything stored about a data subject, for export (GDPR Art. 20) and erasure (Art. 17)."""
        providers = [self.messages, self.responses.store, self.privacy.vault, KnowledgeSubjectData(self.knowledge)]
        return SubjectService(providers, self.keyring, self.audit, self.privacy.vault.subject_digest)

    def load_models(self) -> None:
        """Load the default chat model and the embedding model (blocking)."""
        self.models.load_sync(self.settings.engine.default_model)
        self.models.load_sync(EMBEDDING_MODEL)
        for name, backend in self.models.loaded().items():
            self.sovereignty.router.add(backend)
            scheduler = getattr(backend, "scheduler", None)
            if scheduler is not None:
                self.metrics.watch_engine(name, lambda s=scheduler: s.queue_depth, lambda s=scheduler: s.active)

    async def aclose(self) -> None:
        await self.responses.aclose()  # background runs end before the stores close
        self.stores.dispose()
        await self.sovereignty.aclose()
        await self.models.close()
        if self.engine is not None:
            await self.engine.aclose()
        self.usage.flush()
        self.audit.close()
        self.telemetry.shutdown()
        self.db.dispose()


def _limiter(settings: Settings, worker: WorkerRole | None) -> Limiter:
    limits = settings.limits
    if limits.redis_url:
        return RedisRateLimiter(limits.redis_url, limits.requests_per_minute)
    if worker is not None:
        return worker.rate_limiter(limits.requests_per_minute)
    return RateLimiter(limits.requests_per_minute)


def build_services(settings: Settings, *, migrate: bool = True, start_audit: bool = True,
                   worker: WorkerRole | None = None) -> Services:
    """Wire every service from settings; the only place objects are constructed.

    With `worker` this process is one API worker of `jaju serve --workers N`: it returns once the
    engine process answers, with its models registered and routed.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    if migrate:
        db.migrate()
    key = DeploymentKey.load_or_create(settings.keys_dir)
    audit = AuditLog(db, key, settings.audit, load_hmac_secret(settings.keys_dir / "audit-hmac.key"))
    if start_audit:
        audit.start()
    metrics = Metrics()
    metrics.audit_queue.set_function(lambda: audit.queue_depth)
    metrics.audit_failures.set_function(lambda: audit.failures)
    known = set(JURISDICTION_CODES) | {settings.jurisdiction} | {str(j).upper() for j in settings.jurisdictions}
    tenants = TenantService(db, audit, known)
    keys = ApiKeyService(db, audit, tenants)
    usage = UsageMeter(db)
    home_of = TenantJurisdictions(db)  # one lookup of each tenant's home, shared by keys, transfers, stores
    engine = worker.engine() if worker is not None else None
    models = ModelRegistry(settings, db, remote_loader=engine.load if engine is not None else None)

    def tokenizer_for(model: str):
        backend = models.loaded()[model]  # KeyError: the detector says the model is not loaded
        return lambda text: backend.tokenize(text, special=False, add_bos=False)

    # Loads and validates every policy pack now: a broken pack stops start-up with its file and line.
    compliance = build_compliance_service(settings, db, key, audit, tokenizer_for)
    laws = TenantLaws(tenants.get, compliance.policy_for)
    tenants.listeners.append(laws.forget)  # a tenant changed here: its law is read again at once
    sovereignty = build_sovereignty(settings, db, audit, config_file=settings.source_file, home_of=home_of,
                                    policy=laws.narrow_transfers, policy_basis=laws.policy_basis)
    keks = {**local_providers(settings.keys_dir, known), **kek_providers(sovereignty.jurisdictions)}
    keyring = KeyService(db, home_of, keks)
    main_url = settings.effective_database_url
    stores = TenantStores(db, settings.jurisdiction,
                          {code: db if j.database_url == main_url else Database(j.database_url)
                           for code, j in sovereignty.jurisdictions.by_code.items()}, home_of,
                          may_store=laws.may_store)
    if migrate:
        stores.migrate()
    retention = build_retention(compliance, tenants, audit, [
        SqlTableTarget(stores, StoredCompletion.__table__, kind="content", name="stored_completions"),
        SqlTableTarget(stores, PseudonymEntry.__table__, kind="content", name="privacy_pseudonyms"),
        SqlTableTarget(stores, StoredResponse.__table__, kind="content", name="stored_responses"),
        SqlTableTarget(stores, StoredFile.__table__, kind="content", name="files"),
        BatchRetention(stores),
        AuditLogTarget(audit)])

    korean = Lazy(KoreanAnalyzer)  # Kiwi loads in about a second; only the features that need it pay
    privacy = Lazy(lambda: build_privacy_service(stores, korean.get(), settings.keys_dir, keyring))

    def knowledge_service() -> KnowledgeService:
        e5 = models.embeddings
        if not e5.info.loaded:
            e5.load()
        return build_knowledge_service(stores, korean.get(), keyring, settings.knowledge,
                                       e5_engine=e5.engine, e5_lock=e5.lock, privacy=privacy.get())

    knowledge = Lazy(knowledge_service)

    def rerank_service() -> RerankService:
        e5 = models.embeddings
        if not e5.info.loaded:
            e5.load()
        return build_rerank_service(e5.engine, e5.lock,
                                    remote=routed_remote(sovereignty.router, lambda backend: backend.post_json))

    rerank = Lazy(rerank_service)
    moderation = Lazy(lambda: ModerationService(korean.get(), privacy.get().analyzer))
    messages = MessageStore(stores, keyring)
    safeguards = Safeguards(privacy, knowledge, moderation, korean, compliance)
    inference = InferenceService(models, sovereignty.router, audit, usage, metrics, safeguards, messages)
    files = FileService(stores, keyring, settings.limits.max_upload_bytes)
    batches = BatchService(stores, files, keyring, max_line_bytes=settings.limits.max_body_bytes)
    responses = ResponsesService(inference, ResponseStore(stores, keyring))
    summaries = SummaryService(inference, korean, audit, settings.engine.default_model,
                               settings.limits.max_document_chars)
    segmenter = SegmentService(inference, korean, audit, usage, settings.limits.max_document_chars)
    telemetry = build_telemetry(settings.telemetry.otlp_endpoint, "jaju",
                                sovereignty.jurisdictions.declared_hosts())
    if engine is not None:  # last: everything above was built while the engine process loaded its models
        for backend in engine.backends(worker.engine_start_seconds):
            models.register(backend.info.id, backend)
            sovereignty.router.add(backend)
    ratelimit = _limiter(settings, worker)
    return Services(settings=settings, db=db, key=key, audit=audit, tenants=tenants, keys=keys, usage=usage,
                    metrics=metrics, models=models, ratelimit=ratelimit, keyring=keyring, laws=laws,
                    sovereignty=sovereignty, stores=stores, compliance=compliance, retention=retention,
                    messages=messages, inference=inference, telemetry=telemetry, lazy_korean=korean,
                    summaries=summaries, segmenter=segmenter,
                    lazy_privacy=privacy, lazy_knowledge=knowledge, lazy_moderation=moderation,
                    lazy_rerank=rerank, responses=responses, files=files, batches=batches, engine=engine,
                    # A worker serves none: the supervisor serves the one metrics port for all workers.
                    metrics_bind=None if worker is not None else settings.server.metrics_bind)
