"""LangChain's `ChatOpenAI` and `OpenAIEmbeddings` against a live `jaju serve` on the real default model.

Nothing leaves the machine: every socket outside loopback is refused for the whole module, so a
LangChain or tiktoken download would fail the test loudly instead of reaching the network.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterator

import numpy as np
import pytest
from pydantic import BaseModel, Field

pytestmark = pytest.mark.engine
MODEL = "qwen2.5-coder-0.5b-instruct"
HANGUL = re.compile(r"[가-힣]")


class OffTheNetwork(AssertionError):
    """A connection outside loopback was attempted."""


def _loopback_only(real_connect):
    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host != "localhost" and not _is_loopback_literal(host):
            raise OffTheNetwork(f"the test tried to reach {address!r}; jaju's ecosystem tests stay offline")
        return real_connect(sock, address)
    return connect


def _local_names_only(real_getaddrinfo):
    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in (None, "localhost") and not _is_loopback_literal(name):
            raise OffTheNetwork(f"the test tried to resolve {name!r}; jaju's ecosystem tests stay offline")
        return real_getaddrinfo(host, *args, **kwargs)
    return getaddrinfo


def _is_loopback_literal(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@pytest.fixture(scope="module", autouse=True)
def offline(tmp_path_factory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _loopback_only(socket.socket.connect))
        mp.setattr(socket, "getaddrinfo", _local_names_only(socket.getaddrinfo))
        # An empty tiktoken cache: a token count would need a download, which the socket guard refuses.
        mp.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path_factory.mktemp("tiktoken-empty")))
        for name in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGSMITH_API_KEY", "LANGCHAIN_API_KEY"):
            mp.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def chat(live):
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(base_url=live.base_url + "/v1", api_key=live.admin_key, model=MODEL, temperature=0,
                      max_tokens=48, max_retries=0, timeout=600, include_response_headers=True)


@pytest.fixture(scope="module")
def embeddings(live):
    from langchain_openai import OpenAIEmbeddings

    return OpenAIEmbeddings(base_url=live.base_url + "/v1", api_key=live.admin_key, model="multilingual-e5-small",
                            check_embedding_ctx_length=False, max_retries=0, timeout=120)


def test_offline_guard_refuses_the_network():
    with pytest.raises(OffTheNetwork):
        socket.create_connection(("93.184.216.34", 443), timeout=1)
    with pytest.raises(OffTheNetwork):
        socket.getaddrinfo("openaipublic.blob.core.windows.net", 443)


def test_invoke_answers_in_korean_with_jaju_label(chat):
    reply = chat.invoke("대한민국의 수도는 어디인가요? 한 문장으로 답해 주세요.")
    assert "서울" in reply.content and HANGUL.search(reply.content)
    meta = reply.response_metadata
    assert meta["model_name"] == MODEL and meta["finish_reason"] in ("stop", "length")
    assert reply.usage_metadata["output_tokens"] > 0
    headers = {k.lower(): v for k, v in meta["headers"].items()}
    assert headers["x-jaju-ai-generated"]  # jaju's label reaches LangChain through the response headers


def test_stream_chunks_join_to_the_answer(chat):
    chunks = list(chat.stream("한국의 전통 음식 두 가지를 알려 주세요."))
    texts = [c.content for c in chunks if c.content]
    assert len(texts) > 1
    assert HANGUL.search("".join(texts))


def test_bind_tools_forced_call_has_parsed_arguments(chat):
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str) -> str:
        """도시의 현재 날씨를 알려 준다.

        Args:
            city: 날씨를 알고 싶은 도시 이름 (예: 부산)
        """
        return f"{city}: 맑음"

    model = chat.bind_tools([get_weather], tool_choice="get_weather")
    reply = model.invoke("부산 날씨 어때?")
    assert len(reply.tool_calls) >= 1
    call = reply.tool_calls[0]
    assert call["name"] == "get_weather"
    assert isinstance(call["args"], dict) and isinstance(call["args"].get("city"), str) and call["args"]["city"]
    assert get_weather.invoke(call["args"]).endswith("맑음")  # the arguments fit the tool's own schema


class Person(BaseModel):
    """A person named in the text."""

    name: str = Field(description="사람 이름")
    age: int = Field(description="나이 (정수)")


def test_structured_output_json_schema_validates(chat):
    structured = chat.with_structured_output(Person, method="json_schema", include_raw=True)
    out = structured.invoke("홍길동은 30살입니다. 이 사람의 이름과 나이를 주세요.")
    assert out["parsing_error"] is None
    person = out["parsed"]
    assert isinstance(person, Person)
    assert person.name and isinstance(person.age, int)
    Person.model_validate_json(out["raw"].content)  # the raw text itself is schema-valid JSON


def test_embeddings_documents_and_query(embeddings):
    passages = ["대한민국의 수도는 서울이다. 서울에는 약 천만 명이 산다.",
                "고양이는 하루에 열두 시간 넘게 잠을 잔다.",
                "김치는 배추와 고춧가루로 담그는 한국의 발효 음식이다."]
    docs = np.array(embeddings.embed_documents(passages))
    assert docs.shape == (3, 384)
    query = np.array(embeddings.embed_query("한국의 수도는 어디인가요?"))
    assert query.shape == (384,)
    scores = docs @ query / (np.linalg.norm(docs, axis=1) * np.linalg.norm(query))
    assert scores[0] > scores[1] and scores[0] > scores[2]
    food = np.array(embeddings.embed_query("배추로 만드는 발효 음식"))
    assert int(np.argmax(docs @ food)) == 2
