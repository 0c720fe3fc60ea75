"""Each tenant's content lives in its own jurisdiction's store; nowhere else, and never in clear."""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from sqlalchemy import create_engine, text

from jaju.tenancy.principal import Principal
from jaju.errors import Unavailable
from jaju.services import build_services
from tests.support import link_models, make_settings

pytestmark = [pytest.mark.postgres, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"
SECRET = "제주 한라산 등반 계획서"


@pytest.fixture
def two_stores(tmp_path, qwen_gguf, fresh_pg):
    link_models(tmp_path, qwen_gguf)
    settings = make_settings(tmp_path, jurisdictions={"EU": {"store": {"database_url": fresh_pg}}})
    services = build_services(settings, start_audit=False)
    services.models.load_sync(MODEL)
    services.sovereignty.router.backends.append(services.models.loaded()[MODEL])
    yield services, fresh_pg, tmp_path / "jaju.db"
    asyncio.run(services.aclose())


def keep(services, tenant, text_):
    p = Principal(tenant.id, tenant.name, "key_t", frozenset({"inference"}), tenant.jurisdiction)
    services.messages.keep(p.tenant_id, f"chatcmpl-{tenant.name}", MODEL, [{"role": "user", "content": text_}],
                           {"content": "좋은 계획입니다."}, None)


def test_content_goes_to_the_tenants_jurisdiction(two_stores):
    services, pg_url, sqlite_path = two_stores
    kr = services.tenants.create("서울기관", "KR")
    eu = services.tenants.create("berlin-bank", "EU")
    sa = services.tenants.create("riyadh-agency", "SA")
    keep(services, kr, SECRET)
    keep(services, eu, SECRET)

    engine = create_engine(pg_url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT tenant_id FROM stored_completions")).scalars().all()
    engine.dispose()
    assert rows == [eu.id]  # the EU tenant's content is in the EU store only
    with services.db.sessions() as s:
        local = s.execute(text("SELECT tenant_id FROM stored_completions")).scalars().all()
    assert local == [kr.id]

    # never in clear: not in the SQLite file, not in a PostgreSQL dump
    assert SECRET.encode() not in sqlite_path.read_bytes()
    dump = subprocess.run(["pg_dump", pg_url.split("?")[0].replace("+psycopg", "")], capture_output=True, check=True)
    assert SECRET.encode() not in dump.stdout and b"stored_completions" in dump.stdout

    # Saudi content may not be stored in KR (PDPL Art. 29) and SA declares no store: refused, nothing written
    with pytest.raises(Unavailable) as e:
        keep(services, sa, SECRET)
    assert e.value.status == 503 and "SA" in e.value.message
