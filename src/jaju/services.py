"""Services: every long-lived object jaju needs, built once from Settings and closed once."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from functools import cached_property

from jaju.api.auth import Principal
from jaju.api.ratelimit import Limiter, RateLimiter, RedisRateLimiter
from jaju.audit import AuditLog
from jaju.audit.keys import DeploymentKey
from jaju.audit.log import load_hmac_secret
from jaju.audit.retention import AuditLogTarget
from jaju.compliance.factory import build_compliance_service
from jaju.compliance.policy import Policy
from jaju.compliance.retention import SqlTableTarget
from jaju.compliance.runtime import ComplianceService
from jaju.conversations.store import MessageStore
from jaju.conversations.tables import StoredCompletion
from jaju.engine.catalog import EMBEDDING_MODEL
from jaju.engine.registry import ModelRegistry
from jaju.inference import InferenceService
from jaju.knowledge.factory import build_knowledge_service
from jaju.knowledge.service import KnowledgeService
from jaju.knowledge.subjects import KnowledgeSubjectData
from jaju.korean import KoreanAnalyzer
from jaju.metrics import Metrics
from jaju.privacy.factory import build_privacy_service
from jaju.privacy.policy import DEFAULT_RULES, PrivacyPolicy
from jaju.privacy.tables import PseudonymEntry
from jaju.privacy.service import PrivacyService
from jaju.privacy.subjects import SubjectService
from jaju.safeguards import Safeguards
from jaju.settings import JURISDICTION_CODES, Settings
from jaju.sovereignty.config import kek_providers
from jaju.sovereignty.factory import Sovereignty, build_sovereignty
from jaju.sovereignty.kek import local_providers
from jaju.sovereignty.stores import TenantStores
from jaju.sovereignty.keys import KeyService, TenantJurisdictions
from jaju.store import Database
from jaju.tenancy.keys import ApiKeyService
from jaju.tenancy.tenants import TenantService, TenantView
from jaju.tenancy.usage import UsageMeter

log = logging.getLogger("jaju")
LAW_TTL = 2.0  # seconds a tenant's resolved policy is reused before it is read again


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
    sovereignty: Sovereignty
    stores: TenantStores
    compliance: ComplianceService
    inference: InferenceService = field(init=False)
    messages: MessageStore = field(init=False)

    def __post_init__(self) -> None:
        self._law_cache: dict[str, tuple[float, tuple[TenantView, Policy, PrivacyPolicy]]] = {}
        self.tenants.listeners.append(self.forget_tenant)
        safeguards = Safeguards(lambda: self.privacy, lambda: self.knowledge, self.privacy_policy,
                                self.compliance, self.tenant_policy)
        self.sovereignty.transfers.policy = self.allowed_by_policy
        self.sovereignty.transfers.policy_basis = self.basis_by_policy
        self.stores.may_store = self.may_store
        self.messages = MessageStore(self.stores, self.keyring)
        self.inference = InferenceService(self.models, self.sovereignty, self.audit, self.usage, self.metrics,
                                          safeguards, self.messages)

    def tenant(self, tenant_id: str) -> TenantView:
        """The tenant as the request path sees it (settings such as packs and quota), briefly cached."""
        return self._law(tenant_id)[0]

    def tenant_policy(self, tenant_id: str) -> Policy:
        """The tenant's effective law: its packs (or its jurisdiction's), merged strictest-wins."""
        return self._law(tenant_id)[1]

    def privacy_policy(self, principal: Principal) -> PrivacyPolicy:
        """The PII rules for a tenant's requests: its packs, never laxer than the privacy defaults."""
        return self._law(principal.tenant_id)[2]

    def _law(self, tenant_id: str) -> tuple[TenantView, Policy, PrivacyPolicy]:
        # One request asks for the tenant's law several times (privacy, routing, storage, labels); the
        # answer changes only when an operator changes the tenant, so keep it briefly per tenant.
        # Changes made in this process clear it at once (TenantService listeners); other replicas
        # see them within LAW_TTL seconds.
        now = time.monotonic()
        hit = self._law_cache.get(tenant_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        t = self.tenants.get(tenant_id)
        law = self.compliance.policy_for(t.id, t.jurisdiction, t.settings.get("packs", ()))
        floor = {entity: asdict(rule) for entity, rule in DEFAULT_RULES.items()}
        privacy = PrivacyPolicy.from_dict(law.privacy_actions(floor=floor))
        self._law_cache[tenant_id] = (now + LAW_TTL, (t, law, privacy))
        return t, law, privacy

    def forget_tenant(self, tenant_id: str) -> None:
        self._law_cache.pop(tenant_id, None)

    def allowed_by_policy(self, tenant_id: str, home: str, allowed: set[str]) -> set[str]:
        """Transfer hook: recorded bases plus where the tenant's packs allow processing without one."""
        processing = self.tenant_policy(tenant_id).processing
        return allowed | set(processing.value) if processing is not None else allowed

    def may_store(self, tenant_id: str, jurisdiction: str) -> bool:
        """Whether the tenant's packs allow its content to be stored in `jurisdiction`."""
        storage = self.tenant_policy(tenant_id).storage
        return storage is None or jurisdiction in storage.value

    def basis_by_policy(self, tenant_id: str, to: str) -> str | None:
        """The pack's own basis for a destination (adequacy decisions), for the audit trail."""
        law = self.tenant_policy(tenant_id)
        if law.processing is None or to not in law.processing.value:
            return None
        adequate = law.adequacy is not None and to in law.adequacy.value
        rule = law.adequacy if adequate else law.processing
        cited = "; ".join(str(src) for src in rule.sources)
        return f"{'adequacy' if adequate else 'permitted by policy'} ({cited})"

    @cached_property
    def korean(self) -> KoreanAnalyzer:
        """Kiwi loads in about a second; only the features that need it pay for it."""
        return KoreanAnalyzer()

    @cached_property
    def privacy(self) -> PrivacyService:
        return build_privacy_service(self.stores, self.korean, self.settings.keys_dir, self.keyring)

    @cached_property
    def knowledge(self) -> KnowledgeService:
        e5 = self.models.embeddings
        if not e5.info.loaded:
            e5.load()
        return build_knowledge_service(self.stores, self.korean, self.keyring, self.settings.knowledge,
                                       e5_engine=e5.engine, e5_lock=e5.lock)

    @cached_property
    def subjects(self) -> SubjectService:
        """Everything stored about a data subject, for export (GDPR Art. 20) and erasure (Art. 17)."""
        providers = [self.messages, self.privacy.vault, KnowledgeSubjectData(self.knowledge)]
        return SubjectService(providers, self.keyring, self.audit, self.privacy.vault.subject_digest)

    def load_models(self) -> None:
        """Load the default chat model and the embedding model (blocking)."""
        self.models.load_sync(self.settings.engine.default_model)
        self.models.load_sync(EMBEDDING_MODEL)
        for name, backend in self.models.loaded().items():
            if backend not in self.sovereignty.router.backends:
                self.sovereignty.router.backends.append(backend)
            scheduler = getattr(backend, "scheduler", None)
            if scheduler is not None:
                self.metrics.watch_engine(name, lambda s=scheduler: s.queue_depth, lambda s=scheduler: s.active)

    async def aclose(self) -> None:
        self.stores.dispose()
        await self.sovereignty.aclose()
        await self.models.close()
        self.usage.flush()
        self.audit.close()
        self.db.dispose()


def _limiter(settings: Settings) -> Limiter:
    limits = settings.limits
    if limits.redis_url:
        return RedisRateLimiter(limits.redis_url, limits.requests_per_minute)
    return RateLimiter(limits.requests_per_minute)


def build_services(settings: Settings, *, migrate: bool = True, start_audit: bool = True) -> Services:
    """Wire every service from settings; the only place objects are constructed."""
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
    sovereignty = build_sovereignty(settings, db, audit, config_file=settings.source_file, home_of=home_of)
    keks = {**local_providers(settings.keys_dir, known), **kek_providers(sovereignty.jurisdictions)}
    keyring = KeyService(db, home_of, keks)
    main_url = settings.effective_database_url
    stores = TenantStores(db, settings.jurisdiction,
                          {code: db if j.database_url == main_url else Database(j.database_url)
                           for code, j in sovereignty.jurisdictions.by_code.items()}, home_of)
    if migrate:
        stores.migrate()
    models = ModelRegistry(settings, db)

    def tokenizer_for(model: str):
        backend = models.loaded()[model]  # KeyError: the detector says the model is not loaded
        return lambda text: backend.tokenize(text, special=False, add_bos=False)

    # Loads and validates every policy pack now: a broken pack stops start-up with its file and line.
    compliance = build_compliance_service(settings, db, key, audit, tenants, tokenizer_for, retention_targets=[
        SqlTableTarget(stores, StoredCompletion.__table__, kind="content", name="stored_completions"),
        SqlTableTarget(stores, PseudonymEntry.__table__, kind="content", name="privacy_pseudonyms"),
        AuditLogTarget(audit)])
    return Services(settings=settings, db=db, key=key, audit=audit, tenants=tenants, keys=keys, usage=usage,
                    metrics=metrics, models=models,
                    ratelimit=_limiter(settings), keyring=keyring,
                    sovereignty=sovereignty, stores=stores, compliance=compliance)
