"""The cluster shape: two `jaju serve` processes on one PostgreSQL database, side by side."""

from __future__ import annotations

import concurrent.futures as cf

import httpx
import pytest

from jaju.audit.keys import DeploymentKey
from jaju.audit.verify import verify_store
from jaju.store import Database
from tests.api.conftest import start_server, stop_server

pytestmark = [pytest.mark.engine, pytest.mark.postgres]
MODEL = "qwen2.5-coder-0.5b-instruct"


@pytest.fixture
def pair(tmp_path, qwen_gguf, fresh_pg):
    env = {"JAJU_DATABASE_URL": fresh_pg, "JAJU_ENGINE__PARALLEL": "2"}
    a = start_server(tmp_path, qwen_gguf, env)
    b = start_server(tmp_path, qwen_gguf, env, wait_key=False)  # same data dir: same deployment key
    yield a, b, fresh_pg
    stop_server(b)
    stop_server(a)


def test_two_replicas_share_tenants_keys_and_one_audit_chain(pair, tmp_path):
    a, b, url = pair
    admin = {"Authorization": f"Bearer {a.admin_key}"}
    created = httpx.post(b.base_url + "/admin/tenants", headers=admin, json={"name": "부산광역시", "jurisdiction": "KR"})
    assert created.status_code == 201
    key = httpx.post(a.base_url + "/admin/keys", headers=admin, json={"tenant": "부산광역시", "scopes": ["inference"]})
    secret, key_id = key.json()["secret"], key.json()["id"]
    user = {"Authorization": f"Bearer {secret}"}
    body = {"model": MODEL, "max_tokens": 4, "temperature": 0,
            "messages": [{"role": "user", "content": "대한민국의 수도는?"}]}

    def ask(server):
        return httpx.post(server.base_url + "/v1/chat/completions", headers=user, json=body, timeout=120)

    with cf.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(ask, [a, b, a, b]))
    assert [r.status_code for r in results] == [200, 200, 200, 200]

    assert httpx.delete(b.base_url + f"/admin/keys/{key_id}", headers=admin).status_code == 200
    assert ask(a).status_code == 401  # revoked on one replica, refused on the other

    for server in (a, b):
        assert httpx.post(server.base_url + "/admin/audit/checkpoint", headers=admin).status_code == 200
    db = Database(url)
    report = verify_store(db, [DeploymentKey.load_or_create(tmp_path / "keys").public])
    db.dispose()
    assert report.ok, report.problem
    assert report.events >= 8  # bootstrap, admin actions and the chats from both processes
