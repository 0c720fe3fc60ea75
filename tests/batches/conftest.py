"""Files and batches on an in-process app that shares the session's services (real engine, real stores)."""

from __future__ import annotations

import secrets

import httpx
import openai
import pytest

from jaju.batches.worker import BatchWorker

BASE = "http://jaju.test/v1"


@pytest.fixture(scope="session")
def batch_services(services):
    """The session's services (build_services constructs files and batches)."""
    return services


@pytest.fixture(scope="session")
def batch_app(app):
    """The session's app (create_app registers the files and batches routers)."""
    return app


def _client(app, secret: str) -> tuple[openai.AsyncOpenAI, httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    return openai.AsyncOpenAI(api_key=secret, base_url=BASE, http_client=http, max_retries=0), http


@pytest.fixture
async def client(batch_app, batch_services):
    c, http = _client(batch_app, batch_services.admin_secret)
    yield c
    await http.aclose()


@pytest.fixture(scope="session")
def other_secret(batch_services) -> str:
    """A key of a second tenant, which must never see the first tenant's files or batches."""
    s = batch_services
    tenant = s.tenants.create(f"batch-other-{secrets.token_hex(3)}", s.settings.jurisdiction)
    return s.keys.create(tenant.id, ["inference"])[1]


@pytest.fixture
async def other(batch_app, other_secret):
    c, http = _client(batch_app, other_secret)
    yield c
    await http.aclose()


@pytest.fixture
def worker(batch_services) -> BatchWorker:
    return BatchWorker(batch_services, batch_services.batches, lines_per_step=2)


async def drain(worker: BatchWorker, limit: int = 200) -> int:
    """Step the worker until it finds nothing to do; returns the work done (bounded, no sleeping)."""
    total = 0
    for _ in range(limit):
        n = await worker.step()
        if n == 0:
            return total
        total += n
    raise AssertionError("the batch worker never went idle")
