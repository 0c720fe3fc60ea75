"""Bad input gets OpenAI's error shape with the right status, in-process on a temporary store."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio
MODEL = "qwen2.5-coder-0.5b-instruct"
CHAT = "/v1/chat/completions"


@pytest.fixture(scope="module")
def keys(services):
    admin = services.admin_secret
    _, user = services.keys.create("default", ["inference"], name="user")
    view, revoked = services.keys.create("default", ["inference"], name="revoked")
    services.keys.revoke(view.id)
    return {"admin": admin, "user": user, "revoked": revoked}


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_error(r, status: int, code: str | None = None):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) >= {"message", "type", "code"} and err["message"]
    if code is not None:
        assert err["code"] == code
    return err


async def test_missing_and_malformed_keys(api, keys):
    body = {"model": MODEL, "messages": [{"role": "user", "content": "안녕"}]}
    assert_error(await api.post(CHAT, json=body), 401, "missing_api_key")
    assert_error(await api.post(CHAT, json=body, headers={"Authorization": "Basic abc"}), 401, "invalid_api_key")
    assert_error(await api.post(CHAT, json=body, headers=auth("jaju-key_x.y")), 401, "invalid_api_key")
    wrong = keys["user"][:-2] + ("aa" if not keys["user"].endswith("aa") else "bb")
    assert_error(await api.post(CHAT, json=body, headers=auth(wrong)), 401, "invalid_api_key")
    assert_error(await api.post(CHAT, json=body, headers=auth(keys["revoked"])), 401, "revoked_api_key")


async def test_admin_route_refuses_non_admin_key(api, keys):
    assert_error(await api.get("/admin/tenants", headers=auth(keys["user"])), 403, "insufficient_scope")
    ok = await api.get("/admin/tenants", headers=auth(keys["admin"]))
    assert ok.status_code == 200 and ok.json()["data"][0]["name"] == "default"


async def test_malformed_json_and_invalid_utf8(api, keys):
    h = {**auth(keys["user"]), "Content-Type": "application/json"}
    err = assert_error(await api.post(CHAT, content=b'{"model": "x", "messages": [', headers=h), 400)
    assert "JSON" in err["message"]
    bad_utf8 = b'{"model": "' + MODEL.encode() + b'", "messages": [{"role": "user", "content": "\xed\xa0\x80\xff"}]}'
    assert_error(await api.post(CHAT, content=bad_utf8, headers=h), 400)


@pytest.mark.parametrize("body, param", [
    ({"model": MODEL, "messages": []}, "messages"),
    ({"model": MODEL, "messages": "안녕"}, "messages"),
    ({"model": MODEL, "messages": [{"role": "wizard", "content": "안녕"}]}, "messages.0.role"),
    ({"model": MODEL, "messages": [{"role": "user"}]}, "messages.0"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "안녕"}], "temperature": "hot"}, "temperature"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "안녕"}], "max_tokens": 0}, "max_tokens"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "안녕"}], "n": 9}, "n"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "안녕"}], "tool_choice": "required"}, None),
    ({"messages": [{"role": "user", "content": "안녕"}]}, "model"),
])
async def test_wrong_types_are_400(api, keys, body, param):
    err = assert_error(await api.post(CHAT, json=body, headers=auth(keys["user"])), 400)
    if param:
        assert err["param"] == param


async def test_huge_message_list_is_413(api, keys):
    body = {"model": MODEL, "messages": [{"role": "user", "content": "가"}] * 51}
    assert_error(await api.post(CHAT, json=body, headers=auth(keys["user"])), 413, "too_many_messages")


async def test_oversized_body_is_413(api, keys):
    body = {"model": MODEL, "messages": [{"role": "user", "content": "가" * 70_000}]}
    assert_error(await api.post(CHAT, json=body, headers=auth(keys["user"])), 413, "request_too_large")


async def test_unknown_model_is_404(api, keys):
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "안녕"}]}
    assert_error(await api.post(CHAT, json=body, headers=auth(keys["user"])), 404, "model_not_found")
    emb = {"model": MODEL, "input": "안녕"}
    assert_error(await api.post("/v1/embeddings", json=emb, headers=auth(keys["user"])), 400, "model_not_embedding")


async def test_prompt_longer_than_context_is_400(api, keys, services):
    words = "대한민국 헌법 제1조 대한민국은 민주공화국이다. " * 600
    body = {"model": MODEL, "messages": [{"role": "user", "content": words[:30000]}], "max_tokens": 1}
    assert_error(await api.post(CHAT, json=body, headers=auth(keys["user"])), 400, "context_length_exceeded")


async def test_unknown_route_and_method(api, keys):
    assert_error(await api.get("/v1/nothing", headers=auth(keys["user"])), 404)
    assert_error(await api.put(CHAT, headers=auth(keys["user"]), json={}), 405)


async def test_health_ready_metrics(api, keys):
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200 and ready.json()["model_loaded"] is True
    metrics = (await api.get("/metrics", headers=auth(keys["admin"]))).text  # admin key by default (issue 10)
    assert "jaju_engine_queue_depth" in metrics and "jaju_requests_total" in metrics


async def test_rate_limit_is_429(services, api):
    _, secret = services.keys.create("default", ["inference"], name="limited")
    services.ratelimit.per_minute = 2
    try:
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "안녕"}]}
        codes = [(await api.post(CHAT, json=body, headers=auth(secret))).status_code for _ in range(3)]
        last = await api.post(CHAT, json=body, headers=auth(secret))
    finally:
        services.ratelimit.per_minute = 0
    assert codes == [404, 404, 429]
    assert_error(last, 429, "rate_limit_exceeded")
    assert int(last.headers["Retry-After"]) >= 1
