"""Property-based tests (hypothesis): arbitrary Unicode, lone surrogates included, nesting and sizes at every
route. Whatever arrives, the answer is never a 5xx and errors keep OpenAI's shape; on a real server the
keep-alive connection survives every one of them.

The in-process app (Starlette's TestClient, one event loop) keeps the examples fast; the last test
replays a sample over one TCP connection to a real uvicorn server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from jaju.app import ROUTERS, create_app
from tests.api.test_hardening_connection import Server, socket_of

MODEL = "qwen2.5-coder-0.5b-instruct"
PROPERTY = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])

# Every code point, lone surrogates too (hypothesis leaves those out of text() by default).
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
SHORT_TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=80),
    st.text(st.sampled_from("가나다서울 \ud800\udfff\x00\u200b\ufeff{}[]\"\\/?%#&="), max_size=40),
)
# Bodies also get long Korean text, past the in-process body limit (64 KiB) -> 413.
TEXT = st.one_of(SHORT_TEXT, st.integers(1, 120_000).map(lambda n: "가" * n))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False), SHORT_TEXT)
JSON = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                    st.dictionaries(SHORT_TEXT, inner, max_size=4)), max_leaves=12)
# Raw JSON text: any value as a client escaping non-ASCII sends it, or arrays nested up to 20,000 deep.
RAW = st.one_of(JSON.map(lambda v: json.dumps(v, ensure_ascii=True)),
                st.integers(1, 20_000).map(lambda n: "[" * n + "]" * n))
SLOT = '"@slot"'


def routes() -> list[tuple[str, str]]:
    found = []
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):
                found += [(method, route.path) for method in sorted(route.methods)]
    return found


SHAPES = {  # bodies shaped like each route's, so fuzzed values reach the service behind it
    "/v1/chat/completions": lambda stream: {"model": MODEL, "max_tokens": 1, "stream": stream,
                                            "messages": [{"role": "user", "content": "@slot"}]},
    "/v1/completions": lambda stream: {"model": MODEL, "max_tokens": 1, "stream": stream, "prompt": "@slot"},
    "/v1/embeddings": lambda _: {"model": "multilingual-e5-small", "input": "@slot"},
    "/v1/tokenize": lambda _: {"model": MODEL, "text": "@slot"},
    "/v1/privacy/analyze": lambda _: {"text": "@slot"},
    "/v1/privacy/anonymize": lambda _: {"text": "@slot", "anonymizers": {"PERSON": {"type": "pseudonymize"}}},
    "/v1/knowledge-bases": lambda _: {"name": "@slot", "description": "@slot"},
    "/v1/knowledge-bases/{kb_id}/search": lambda _: {"query": "@slot", "filters": {"labels": {"부서": "@slot"}}},
    "/v1/provenance/verify": lambda _: {"content": "@slot", "manifest": {"text_sha256": "@slot"}},
    "/v1/watermark/detect": lambda _: {"text": "@slot"},
    "/admin/keys": lambda _: {"tenant": "@slot", "name": "@slot"},
    "/admin/tenants/{ref}/quota": lambda _: {"monthly_tokens": "@slot"},
}


ENGINE_ROUTES = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")


def body_for(path: str) -> st.SearchStrategy:
    """Raw JSON bodies: the route's own shape with a fuzzed value in its slots, or anything at all."""
    shape = SHAPES.get(path)
    if shape is None:
        return RAW
    # The engine routes get short text: a long prompt only costs prefill time, and size limits are
    # exercised on every other route.
    text = SHORT_TEXT if path in ENGINE_ROUTES else TEXT
    filled = st.tuples(st.one_of(text.map(lambda t: json.dumps(t, ensure_ascii=True)), RAW), st.booleans()).map(
        lambda vb: json.dumps(shape(vb[1]), ensure_ascii=True).replace(SLOT, vb[0]))
    return st.one_of(filled, RAW)


def raw_bytes(text: str) -> bytes:
    """UTF-8, except that a lone surrogate becomes the invalid bytes a hostile client would send."""
    return text.encode("utf-8", "surrogatepass")


def encoded(text: str) -> str:
    return quote(raw_bytes(text), safe="")


def request_for(method: str, path: str, kb_id: str):
    """A strategy of (url, kwargs) for one route: path parameters, query and body all fuzzed."""
    segment = SHORT_TEXT.map(encoded)
    real_kb = st.just(kb_id)

    def url(parts: dict) -> str:
        out = path
        for name, value in parts.items():
            out = out.replace("{" + name + "}", value).replace("{" + name + ":path}", value)
        return out

    names = [p.strip("{}").split(":")[0] for p in path.split("/") if p.startswith("{")]
    params = st.fixed_dictionaries({n: (st.one_of(real_kb, segment) if n == "kb_id" else segment) for n in names})
    query = st.dictionaries(st.sampled_from(["limit", "after", "tenant"]), SHORT_TEXT.map(encoded), max_size=2)
    if method in ("GET", "DELETE"):
        return st.tuples(st.tuples(params.map(url), query).map(
            lambda uq: uq[0] + ("?" + "&".join(f"{k}={v}" for k, v in uq[1].items()) if uq[1] else "")),
            st.just({}))
    if path.endswith("/documents"):
        upload = st.fixed_dictionaries({
            # form fields as a hostile client sends them: a lone surrogate as invalid UTF-8 bytes
            "data": st.fixed_dictionaries({}, optional={
                "labels": st.one_of(TEXT.map(raw_bytes), RAW), "subject": SHORT_TEXT.map(raw_bytes)}),
            "files": st.lists(st.tuples(st.just("files"), st.tuples(
                TEXT.map(lambda t: t.encode("utf-8", "surrogatepass").decode("utf-8", "replace")[:60] or "x"),
                st.one_of(TEXT.map(raw_bytes), st.binary(max_size=2000)),
                st.sampled_from(["text/plain", "text/markdown", "application/pdf", "application/zip"]))),
                min_size=1, max_size=2)})
        return st.tuples(params.map(url), upload)
    return st.tuples(params.map(url), body_for(path).map(
        lambda b: {"content": b.encode("ascii"), "headers": {"Content-Type": "application/json"}}))


def assert_no_server_error(r: httpx.Response) -> None:
    assert r.status_code < 500, r.text[:500]
    if r.status_code >= 400:
        err = r.json()["error"]
        assert set(err) == {"message", "type", "param", "code"} and isinstance(err["message"], str)
    if r.headers.get("content-type", "").startswith("text/event-stream"):
        assert "internal_error" not in r.text, r.text[-500:]


@pytest.fixture(scope="module")
def admin(services) -> str:
    return services.admin_secret


@pytest.fixture(scope="module")
def kb_id(services) -> str:
    return services.knowledge.create_kb(services.tenants.get("default").id, "속성 시험", "").id


@pytest.fixture(scope="module")
def client(services, admin) -> Iterator[TestClient]:
    app = create_app(services=services, load_models=False)
    with TestClient(app, headers={"Authorization": f"Bearer {admin}"}) as c:
        yield c


def with_body(route: tuple[str, str]) -> bool:
    return route[0] in ("POST", "PUT")


@pytest.mark.parametrize("method, path", [r for r in routes() if with_body(r)])
@PROPERTY
@given(data=st.data())
def test_no_body_makes_a_server_error(client, kb_id, method, path, data):
    url, kwargs = data.draw(request_for(method, path, kb_id))
    assert_no_server_error(client.request(method, url, **kwargs))


@pytest.mark.parametrize("method, path", [r for r in routes() if not with_body(r)])
@settings(PROPERTY, max_examples=20)
@given(data=st.data())
def test_no_path_or_query_makes_a_server_error(client, kb_id, method, path, data):
    url, kwargs = data.draw(request_for(method, path, kb_id))
    assert_no_server_error(client.request(method, url, **kwargs))


@pytest.fixture(scope="module")
def live(services) -> Iterator[str]:
    with Server(create_app(services=services, load_models=False)) as base:
        yield base


@settings(PROPERTY, max_examples=40)
@given(data=st.data())
def test_the_connection_survives_any_input(live, admin, kb_id, data):
    """One keep-alive connection to a real server: each fuzzed request, then an innocent one on it."""
    method, path = data.draw(st.sampled_from([r for r in routes() if r[0] != "DELETE"]))
    url, kwargs = data.draw(request_for(method, path, kb_id))
    with httpx.Client(base_url=live, headers={"Authorization": f"Bearer {admin}"}, timeout=120) as client:
        r = client.request(method, url, **kwargs)
        first = socket_of(r)
        assert_no_server_error(r)
        after = client.get("/v1/models")
        assert after.status_code == 200 and socket_of(after) == first
