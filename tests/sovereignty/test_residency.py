"""Two jurisdictions, two real engines: the KR engine dies, KR tenants get 503s and nothing reaches the EU."""

from __future__ import annotations

import anyio
import pytest

from jaju.engine.base import ChatRequest, SamplingParams
from jaju.engine.remote import RemoteBackend
from jaju.errors import ServiceError
from jaju.sovereignty.breaker import CLOSED, HALF_OPEN, OPEN
from jaju.sovereignty.config import BackendConfig
from jaju.sovereignty.egress import EgressGuard
from jaju.sovereignty.router import ResidencyRouter
from jaju.sovereignty.transfers import TransferService

pytestmark = [pytest.mark.engine, pytest.mark.anyio]
SHORT = SamplingParams(max_tokens=4, temperature=0.0)


def request(text: str) -> ChatRequest:
    return ChatRequest("qwen", [{"role": "user", "content": text}], SHORT)


@pytest.fixture
async def setup(db, recorder, llama_servers):
    kr, eu = llama_servers["KR"], llama_servers["EU"]
    guard = EgressGuard({("127.0.0.1", kr.port), ("127.0.0.1", eu.port)}, recorder)
    backends = [RemoteBackend(BackendConfig(name=f"{code.lower()}-llama", url=s.url, models=["qwen"],
                                            failure_threshold=2, reset_after=1.0, timeout=60), code, transport=guard)
                for code, s in (("KR", kr), ("EU", eu))]
    transfers = TransferService(db, recorder, {"KR", "EU"})
    yield ResidencyRouter(backends, transfers, recorder), transfers, kr, eu
    for b in backends:
        await b.close()


async def ask(router: ResidencyRouter, tenant: str, text: str) -> tuple[str, dict]:
    used: dict = {}
    out = "".join([d.text async for d in router.chat(request(text), tenant, used=used)])
    return out, used


async def test_kr_engine_down_means_503_for_kr_and_no_detour(setup, recorder):
    router, _, kr, eu = setup
    _, used = await ask(router, "ten_kr", "안녕하세요")
    assert used == {"jurisdiction": "KR", "backend": "kr-llama", "model": "qwen"}
    _, used = await ask(router, "ten_eu", "Hello")
    assert used["jurisdiction"] == "EU"

    kr.kill()
    eu_before = eu.tasks()
    statuses = []
    for text in ["서울의 인구는?", "부산의 인구는?", "대구의 인구는?", "인천의 인구는?"]:
        with pytest.raises(ServiceError) as e:
            await ask(router, "ten_kr", text)
        statuses.append((e.value.status, e.value.code))
    assert statuses == [(503, "residency_unavailable")] * 4
    assert router.backends[0].breaker.state in (OPEN, HALF_OPEN)
    # The EU engine's own log: not one KR-tenant request arrived while KR was down.
    assert eu.tasks() == eu_before
    # EU tenants are unaffected, and their requests do show up in that same log.
    await ask(router, "ten_eu", "Hello again")
    assert eu.tasks() == eu_before + 1
    assert not [e for e in recorder.events if e.action == "transfer.allowed"]

    # Restart: after reset_after the breaker lets one probe through (half-open), success closes it.
    kr.start()
    while router.backends[0].breaker.state != HALF_OPEN:
        await anyio.sleep(0.1)
    _, used = await ask(router, "ten_kr", "다시 안녕하세요")
    assert used["jurisdiction"] == "KR" and router.backends[0].breaker.state == CLOSED


async def test_with_a_recorded_basis_the_detour_is_allowed_and_audited(setup, recorder):
    router, transfers, kr, eu = setup
    transfers.add("ten_kr", "EU", "PIPA 28-8(1)1 consent", "동의서-2026-17")
    kr.kill()
    try:
        before = eu.tasks()
        _, used = await ask(router, "ten_kr", "안녕하세요")
        assert used["jurisdiction"] == "EU" and eu.tasks() == before + 1
        allowed = [e for e in recorder.events if e.action == "transfer.allowed"]
        assert len(allowed) == 1 and allowed[0].fields["basis"] == "PIPA 28-8(1)1 consent"
        assert allowed[0].fields["evidence"] == "동의서-2026-17" and allowed[0].tenant_id == "ten_kr"
        # The basis is withdrawn: the very next request fails closed instead.
        transfers.remove("ten_kr", "EU")
        with pytest.raises(ServiceError) as e:
            await ask(router, "ten_kr", "안녕하세요")
        assert e.value.status == 503 and eu.tasks() == before + 1
    finally:
        kr.start()


async def test_home_first_again_the_moment_it_is_back(setup, recorder):
    """An outage with a basis goes abroad; home's return wins the very next request, before any probe."""
    router, transfers, kr, eu = setup
    kr_backend = router.backends[0]
    transfers.add("ten_kr", "EU", "PIPA 28-8(1)1 consent", "동의서-2026-18")
    kr.kill()
    try:
        _, used = await ask(router, "ten_kr", "서울의 인구는?")
        assert used["jurisdiction"] == "EU"
        assert (await router.check_health())["kr-llama"] is False  # the probe saw home down
        # Home is back. The probe's flag still says "down" and no probe runs before the next request.
        kr.start()
        assert kr_backend.breaker.state == CLOSED and router.health()["kr-llama"] is False
        kr_before, eu_before = kr.tasks(), eu.tasks()
        _, used = await ask(router, "ten_kr", "부산의 인구는?")
        assert used["jurisdiction"] == "KR" and kr.tasks() == kr_before + 1 and eu.tasks() == eu_before
        assert router.health()["kr-llama"] is True  # the answer itself proved home healthy
    finally:
        if kr.proc.poll() is not None:
            kr.start()
    transfers_abroad = [e for e in recorder.events if e.action == "transfer.allowed"]
    assert len(transfers_abroad) == 1  # only the request made while home was down crossed the border


async def test_an_open_circuit_keeps_requests_abroad_only_until_its_half_open_probe(setup):
    router, transfers, kr, eu = setup
    kr_backend = router.backends[0]
    transfers.add("ten_kr", "EU", "PIPA 28-8(1)1 consent")
    kr.kill()
    try:
        for text in ["대구의 인구는?", "인천의 인구는?"]:  # failure_threshold = 2 opens home's circuit
            _, used = await ask(router, "ten_kr", text)
            assert used["jurisdiction"] == "EU"
        assert kr_backend.breaker.state in (OPEN, HALF_OPEN)  # opened; reset_after (1 s) may have passed since
        kr.start()
        while kr_backend.breaker.state != HALF_OPEN:  # reset_after = 1 s
            await anyio.sleep(0.1)
        _, used = await ask(router, "ten_kr", "광주의 인구는?")
        assert used["jurisdiction"] == "KR" and kr_backend.breaker.state == CLOSED
    finally:
        if kr.proc.poll() is not None:
            kr.start()


async def test_a_stale_unhealthy_flag_never_sends_data_abroad_while_home_answers(setup, recorder):
    router, transfers, kr, eu = setup
    transfers.add("ten_kr", "EU", "PIPA 28-8(1)1 consent")
    router.mark(router.backends[0], False)  # what a probe during a blip left behind
    eu_before = eu.tasks()
    _, used = await ask(router, "ten_kr", "대전의 인구는?")
    assert used["jurisdiction"] == "KR" and eu.tasks() == eu_before
    assert not [e for e in recorder.events if e.action == "transfer.allowed"]
