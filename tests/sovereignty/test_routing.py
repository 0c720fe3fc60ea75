"""Transfers and ResidencyRouter.pick on real RemoteBackend objects (no server needed to choose)."""

from __future__ import annotations

import pytest

from jaju.engine.remote import RemoteBackend
from jaju.errors import ServiceError
from jaju.sovereignty.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from jaju.sovereignty.config import BackendConfig
from jaju.sovereignty.router import ResidencyRouter
from jaju.sovereignty.transfers import TransferError, TransferService

KNOWN = {"KR", "EU", "SA", "US"}


def backend(name: str, jurisdiction: str, port: int, models=("qwen",), **extra) -> RemoteBackend:
    cfg = BackendConfig(name=name, url=f"http://127.0.0.1:{port}", models=list(models), **extra)
    return RemoteBackend(cfg, jurisdiction)


@pytest.fixture
def transfers(db, recorder) -> TransferService:
    return TransferService(db, recorder, KNOWN)


@pytest.fixture
def router(transfers, recorder) -> ResidencyRouter:
    return ResidencyRouter([backend("eu-1", "EU", 9), backend("kr-1", "KR", 9), backend("kr-2", "KR", 9),
                            backend("us-1", "US", 9, models=("qwen", "big"))], transfers, recorder)


def test_add_list_remove_bases(transfers: TransferService, recorder):
    v = transfers.add("ten_kr", "eu", "PIPA 28-8(1)1 consent", "consent-form-2026-001", actor="cli")
    assert (v.to, v.basis, v.evidence) == ("EU", "PIPA 28-8(1)1 consent", "consent-form-2026-001")
    assert [x.to for x in transfers.list("ten_kr")] == ["EU"]
    assert transfers.allowed_jurisdictions("ten_kr") == {"KR", "EU"}
    transfers.remove("ten_kr", "EU")
    assert transfers.allowed_jurisdictions("ten_kr") == {"KR"}
    assert recorder.actions() == ["transfer.basis.add", "transfer.basis.remove"]
    assert recorder.events[0].fields == {"from": "KR", "to": "EU", "basis": "PIPA 28-8(1)1 consent",
                                         "evidence": "consent-form-2026-001"}


@pytest.mark.parametrize("tenant,to,basis,message", [
    ("ten_kr", "KR", "x", "home jurisdiction"),
    ("ten_kr", "XX", "x", "not configured"),
    ("ten_kr", "EU", "  ", "legal basis"),
    ("nobody", "EU", "x", "No tenant"),
])
def test_bad_bases_are_refused(transfers, tenant, to, basis, message):
    with pytest.raises(TransferError, match=message):
        transfers.add(tenant, to, basis)


def test_duplicate_and_missing(transfers):
    transfers.add("ten_eu", "KR", "GDPR Art. 45 adequacy (Korea, 2021)")
    with pytest.raises(TransferError, match="already recorded"):
        transfers.add("ten_eu", "KR", "again")
    with pytest.raises(TransferError, match="No transfer basis"):
        transfers.remove("ten_eu", "SA")


def test_policy_hook_narrows(db, recorder):
    t = TransferService(db, recorder, KNOWN, policy=lambda tenant, home, allowed: {home})
    t.add("ten_kr", "EU", "PIPA 28-8(1)1 consent")
    assert t.allowed_jurisdictions("ten_kr") == {"KR"}


def test_pick_home_only_without_a_basis(router):
    assert [b.name for b in router.pick("qwen", "ten_kr")] == ["kr-1", "kr-2"]
    assert [b.name for b in router.pick("qwen", "ten_eu")] == ["eu-1"]


def test_pick_with_a_basis_prefers_home(router, transfers):
    transfers.add("ten_kr", "EU", "PIPA 28-8(1)1 consent")
    assert [b.name for b in router.pick("qwen", "ten_kr")] == ["kr-1", "kr-2", "eu-1"]


def test_unknown_model_is_404(router):
    with pytest.raises(ServiceError) as e:
        router.pick("nope", "ten_kr")
    assert e.value.status == 404


def test_only_abroad_is_refused_with_503_and_audited(router, recorder):
    with pytest.raises(ServiceError) as e:
        router.pick("big", "ten_kr", key_id="key_1")
    assert e.value.status == 503 and e.value.code == "residency_unavailable"
    assert "backends in US were not used" in e.value.message
    assert e.value.body()["error"]["type"] == "service_unavailable"
    event = recorder.events[-1]
    assert event.action == "transfer.refused" and event.fields["to"] == ["US"] and event.key_id == "key_1"


def test_open_circuits_are_skipped_and_all_open_is_503(router):
    for b in router.backends:
        if b.jurisdiction == "KR":
            for _ in range(b.breaker.failure_threshold):
                b.breaker.failure()
    with pytest.raises(ServiceError) as e:
        router.pick("qwen", "ten_kr")
    assert e.value.status == 503 and "kr-1 (KR) is down" in e.value.message and "kr-2 (KR)" in e.value.message
    assert "backends in EU, US were not used" in e.value.message


def test_used_by_restricts_a_model_to_some_home_jurisdictions(db, recorder, transfers):
    cfg = BackendConfig(name="eu-x", url="http://127.0.0.1:9", models={"m": {"remote": "m", "used_by": ["EU"]}})
    r = ResidencyRouter([RemoteBackend(cfg, "EU")], transfers, recorder)
    transfers.add("ten_kr", "EU", "PIPA 28-8(1)1 consent")
    assert [b.name for b in r.pick("m", "ten_eu")] == ["eu-x"]
    with pytest.raises(ServiceError, match="no backend serving it"):
        r.pick("m", "ten_kr")


def test_breaker_states():
    now = [0.0]
    b = CircuitBreaker(failure_threshold=2, reset_after=5, clock=lambda: now[0])
    assert b.state == CLOSED and b.allow()
    b.failure()
    assert b.state == CLOSED
    b.failure()
    assert b.state == OPEN and not b.allow()
    now[0] = 5.0
    assert b.state == HALF_OPEN
    assert b.allow() and not b.allow()  # one probe at a time
    b.failure()
    assert b.state == OPEN
    now[0] = 10.0
    assert b.allow()
    b.success()
    assert b.state == CLOSED and b.allow()


def test_health_flags_order_within_a_jurisdiction_but_never_outrank_home(router, transfers):
    transfers.add("ten_kr", "EU", "PIPA 28-8(1)1 consent")
    by_name = {b.name: b for b in router.backends}
    router.mark(by_name["kr-1"], False)
    router.mark(by_name["kr-2"], False)
    assert [b.name for b in router.pick("qwen", "ten_kr")] == ["kr-1", "kr-2", "eu-1"]
    router.mark(by_name["kr-2"], True)
    assert [b.name for b in router.pick("qwen", "ten_kr")] == ["kr-2", "kr-1", "eu-1"]
