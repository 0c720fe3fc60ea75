"""Issue 10's findings, each a regression test, in-process on the real engine and a temporary store.

Text that is not valid Unicode, deep JSON in a form field, non-boolean booleans, logit_bias, echoed
values and what /metrics and /openapi.json show without a key.
"""

from __future__ import annotations

import json

import httpx
import numpy as np
import pytest

from jaju.api.health import serve_metrics
from jaju.errors import ServiceError
from jaju.protocol import jsonsafe
from jaju.protocol.logit_bias import check_logit_bias, logit_bias_hook
from tests.support import free_port

pytestmark = pytest.mark.anyio
MODEL = "qwen2.5-coder-0.5b-instruct"
SURROGATE = "\ud800x"  # a lone high surrogate: "\\ud800x" on the wire


@pytest.fixture(scope="module")
def keys(services):
    _, user = services.keys.create("default", ["inference", "privacy", "knowledge"], name="hardening")
    return {"admin": services.admin_secret, "user": user}


@pytest.fixture(scope="module")
def kb(services) -> str:
    return services.knowledge.create_kb(services.tenants.get("default").id, "구청 민원 안내", "").id


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def raw(body) -> bytes:
    """JSON as a client that escapes non-ASCII sends it: a lone surrogate travels as \\ud800."""
    return json.dumps(body, ensure_ascii=True).encode("ascii")


def error(r: httpx.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["message"]
    if code is not None:
        assert err["code"] == code, err
    return err


USER = [{"role": "user", "content": "안녕하세요"}]
UNICODE_CASES = [
    ("/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": SURROGATE}]},
     "messages.0.content"),
    ("/v1/chat/completions",
     {"model": MODEL, "messages": [{"role": "user", "content": [{"type": "text", "text": "서울" + SURROGATE}]}]},
     "messages.0.content.0.text"),
    ("/v1/chat/completions", {"model": MODEL, "messages": USER, "metadata": {SURROGATE: "값"}}, None),
    ("/v1/chat/completions", {"model": MODEL, "messages": USER, "tools": [{"type": "function", "function": {
        "name": "weather", "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": SURROGATE}}}}}]},
     "tools.0.function.parameters.properties.city.description"),
    ("/v1/chat/completions", {"model": MODEL, "messages": USER, "stop": ["끝", SURROGATE]}, "stop.1"),
    ("/v1/completions", {"model": MODEL, "prompt": "대한민국의 수도는" + SURROGATE}, "prompt"),
    ("/v1/embeddings", {"model": "multilingual-e5-small", "input": ["서울", SURROGATE]}, "input.1"),
    ("/v1/tokenize", {"model": MODEL, "text": SURROGATE}, "text"),
    ("/v1/tokenize", {"model": SURROGATE, "text": "안녕"}, "model"),
    ("/v1/privacy/analyze", {"text": "김민수의 전화번호는 010-1234-5678" + SURROGATE}, "text"),
    ("/v1/privacy/anonymize", {"text": "안녕", "anonymizers": {"PERSON": {"type": "replace", "new_value": SURROGATE}}},
     "anonymizers.PERSON.new_value"),
    ("/v1/knowledge-bases", {"name": "조례" + SURROGATE}, "name"),
    ("/v1/watermark/detect", {"text": SURROGATE}, "text"),
    ("/v1/provenance/verify", {"content": SURROGATE, "manifest": {}}, "content"),
    ("/admin/tenants", {"name": SURROGATE, "jurisdiction": "KR"}, "name"),
]


@pytest.mark.parametrize("path, body, param", UNICODE_CASES)
async def test_lone_surrogate_is_400_naming_the_field(api, keys, path, body, param):
    headers = {**auth(keys["admin"]), "Content-Type": "application/json"}
    err = error(await api.post(path, content=raw(body), headers=headers), 400, "invalid_unicode")
    if param is not None:
        assert err["param"] == param
    assert "Unicode" in err["message"]


async def test_surrogate_in_a_search_body_and_labels_field(api, keys, kb):
    h = auth(keys["user"])
    r = await api.post(f"/v1/knowledge-bases/{kb}/search", content=raw({"query": "민원" + SURROGATE}),
                       headers={**h, "Content-Type": "application/json"})
    assert error(r, 400, "invalid_unicode")["param"] == "query"
    up = await api.post(f"/v1/knowledge-bases/{kb}/documents", headers=h,
                        data={"labels": raw({"부서": SURROGATE}).decode()},
                        files=[("files", ("안내.txt", "민원은 구청 1층에서 접수합니다.".encode(), "text/plain"))])
    assert error(up, 400)["param"] == "labels.부서"


async def test_query_strings_paths_and_form_fields_never_carry_surrogates(api, keys, kb):
    """Invalid UTF-8 there is decoded with replacement characters, so nothing downstream breaks."""
    h = auth(keys["user"])
    r = await api.get("/v1/chat/completions?after=%ED%A0%80&limit=5", headers=h)
    assert error(r, 400)["param"] == "after"  # an unknown cursor, not a server error
    assert (await api.get("/v1/chat/completions/%ED%A0%80", headers=h)).status_code == 404
    up = await api.post(f"/v1/knowledge-bases/{kb}/documents", headers=h,
                        data={"labels": b'{"\xed\xa0\x80\xff": "\xed\xb0\x80"}'},
                        files=[("files", ("규정.txt", "제1조 목적".encode(), "text/plain"))])
    assert up.status_code == 200 and up.json()["succeeded"] == 1, up.text


@pytest.mark.parametrize("labels, fragment", [
    ("[" * 30_000 + "]" * 30_000, "nested"),  # RecursionError in json.loads before the fix
    (json.dumps({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}), "nested"),
    (json.dumps({"부서": "가" * 70_000}), "longer"),
    ("{\"부서\": ", "not valid JSON"),
], ids=["30k-deep", "9-deep", "70k-chars", "cut-off"])
async def test_labels_json_is_bounded(api, keys, kb, labels, fragment):
    h = auth(keys["user"])
    up = await api.post(f"/v1/knowledge-bases/{kb}/documents", headers=h, data={"labels": labels},
                        files=[("files", ("안내.txt", "민원 안내".encode(), "text/plain"))])
    err = error(up, 400)
    assert err["param"] == "labels" and fragment in err["message"]


@pytest.mark.parametrize("arguments", [
    "[" * 5000 + "]" * 5000,
    json.dumps({"city": "서울\ud800"}, ensure_ascii=True),  # decodes to a lone surrogate downstream
], ids=["deep", "escaped-surrogate"])
async def test_tool_call_arguments_are_bounded(api, keys, arguments):
    messages = [{"role": "user", "content": "서울 날씨 알려줘"},
                {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                                                      "function": {"name": "weather", "arguments": arguments}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "맑음"}]
    r = await api.post("/v1/chat/completions", json={"model": MODEL, "messages": messages, "max_tokens": 1},
                       headers=auth(keys["user"]))
    assert error(r, 400)["param"] == "messages.1.tool_calls.0.function.arguments"


async def test_deep_tool_parameters_are_400(api, keys):
    deep: dict = {"type": "string"}
    for _ in range(100):
        deep = {"type": "object", "properties": {"x": deep}}
    body = {"model": MODEL, "messages": USER, "tools": [{"type": "function", "function": {"name": "f",
                                                                                          "parameters": deep}}]}
    r = await api.post("/v1/chat/completions", json=body, headers=auth(keys["user"]))
    assert error(r, 400)["param"].startswith("tools.0.function.parameters")


@pytest.mark.parametrize("path, field, value", [
    ("/v1/chat/completions", "stream", "yes"),
    ("/v1/chat/completions", "stream", 1),
    ("/v1/chat/completions", "store", "true"),
    ("/v1/chat/completions", "parallel_tool_calls", 0),
    ("/v1/completions", "stream", "yes"),
    ("/v1/completions", "echo", "no"),
])
async def test_booleans_must_be_booleans(api, keys, path, field, value):
    body = {"model": MODEL, "messages": USER, "prompt": "서울은", "max_tokens": 1, field: value}
    err = error(await api.post(path, json=body, headers=auth(keys["user"])), 400)
    assert err["param"] == field


async def test_stream_options_include_usage_is_strict(api, keys):
    body = {"model": MODEL, "messages": USER, "stream": True, "stream_options": {"include_usage": "yes"}}
    err = error(await api.post("/v1/chat/completions", json=body, headers=auth(keys["user"])), 400)
    assert err["param"] == "stream_options.include_usage"


@pytest.mark.parametrize("bias", [{"abc": 1}, {"15": 101}, {"15": 1.5}, {"-3": 1}])
async def test_logit_bias_shape_is_checked(api, keys, bias):
    body = {"model": MODEL, "messages": USER, "max_tokens": 1, "logit_bias": bias}
    err = error(await api.post("/v1/chat/completions", json=body, headers=auth(keys["user"])), 400)
    assert err["param"].startswith("logit_bias")


def test_logit_bias_ids_are_checked_against_the_real_vocabulary(services):
    n_vocab = services.models.loaded()[MODEL].scheduler.n_vocab
    check_logit_bias({"0": 5, str(n_vocab - 1): -100}, n_vocab)
    with pytest.raises(ServiceError) as e:
        check_logit_bias({"15": 1, str(n_vocab): 1}, n_vocab)
    assert e.value.status == 400 and e.value.param == "logit_bias" and str(n_vocab) in e.value.message


def test_logit_bias_hook_bans_and_forces_tokens():
    logits = np.zeros(10, dtype=np.float32)
    logit_bias_hook({"3": -100, "7": 100, "99": 100})(list(range(4)), logits)
    assert logits[3] == -100 and logits[7] == 100 and int(np.argmax(logits)) == 7
    assert np.count_nonzero(logits) == 2  # an id past the vocabulary is never indexed


@pytest.mark.parametrize("name, shown", [
    ("qwen-9000-ultra", True),
    ("850315-1234567", False),  # an RRN sent as a model name is not reflected
    ("김민수 010-1234-5678", False),
    ("gpt\n\x1b[31mred", False),
    ("a" * 500, False),
], ids=["model-like", "rrn", "name-and-phone", "control-chars", "500-chars"])
async def test_unknown_model_name_is_echoed_only_when_it_looks_like_one(api, keys, name, shown):
    body = {"model": name[:200], "messages": USER}
    err = error(await api.post("/v1/chat/completions", json=body, headers=auth(keys["user"])), 404,
                "model_not_found")
    assert (name in err["message"]) is shown
    assert len(err["message"]) < 200


async def test_unknown_route_echo_is_bounded_and_clean(api, keys):
    err = error(await api.get("/v1/" + "가" * 300 + "%0A%1B", headers=auth(keys["user"])), 404)
    assert len(err["message"]) < 200 and "\n" not in err["message"] and "\x1b" not in err["message"]


async def test_metrics_need_an_admin_key_unless_public(api, keys, services):
    error(await api.get("/metrics"), 401)
    error(await api.get("/metrics", headers=auth(keys["user"])), 403, "insufficient_scope")
    assert "jaju_requests_total" in (await api.get("/metrics", headers=auth(keys["admin"]))).text
    server = services.settings.server
    server.public_metrics = True
    try:
        assert (await api.get("/metrics")).status_code == 200
    finally:
        server.public_metrics = False


async def test_openapi_needs_a_key_unless_public(api, keys, services):
    error(await api.get("/openapi.json"), 401)
    schema = (await api.get("/openapi.json", headers=auth(keys["user"]))).json()
    assert "/v1/chat/completions" in schema["paths"] and "/openapi.json" not in schema["paths"]
    services.settings.server.public_openapi = True
    try:
        assert (await api.get("/openapi.json")).status_code == 200
    finally:
        services.settings.server.public_openapi = False


async def test_metrics_on_their_own_address(api, keys, services):
    bind = f"127.0.0.1:{free_port()}"
    stop = serve_metrics(services.metrics, bind)
    services.settings.server.metrics_bind = bind
    try:
        error(await api.get("/metrics", headers=auth(keys["admin"])), 404)
        async with httpx.AsyncClient() as client:
            scraped = await client.get(f"http://{bind}/metrics")
        assert scraped.status_code == 200 and "jaju_requests_total" in scraped.text
    finally:
        services.settings.server.metrics_bind = None
        stop()


def test_safe_loader_bounds():
    assert jsonsafe.loads('{"부서": ["복지과", 1, true]}') == {"부서": ["복지과", 1, True]}
    for text, fragment in [("[" * 65 + "]" * 65, "nested"), ("[" * 50_000, "nested"), ("x" * 20, "longer"),
                           ('{"a": "\\udc00"}', "Unicode"), ("{", "not valid JSON")]:
        with pytest.raises(jsonsafe.JsonRejected, match=fragment):
            jsonsafe.loads(text, max_chars=16 if text == "x" * 20 else jsonsafe.MAX_CHARS)
