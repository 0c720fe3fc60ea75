"""Parameters people send that jaju does not use are accepted and named back; ones whose value jaju
cannot honour are a clear 400. Driven with the official openai client, as partners' code is."""

from __future__ import annotations

import httpx
import openai
import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"
QUESTION = [{"role": "user", "content": "대한민국의 수도는 어디인가요? 한 단어로 답하세요."}]


@pytest.fixture
async def client(app, services):
    transport = httpx.ASGITransport(app=app)
    http = httpx.AsyncClient(transport=transport, base_url="http://jaju.test/v1")
    yield openai.AsyncOpenAI(api_key=services.admin_secret, base_url="http://jaju.test/v1", http_client=http,
                             max_retries=0)
    await http.aclose()


async def test_unused_openai_parameters_are_accepted_and_listed(client):
    r = await client.chat.completions.create(
        model=MODEL, messages=QUESTION, max_tokens=8, temperature=0, user="partner-user-17",
        service_tier="auto", reasoning_effort="low", prediction={"type": "content", "content": "서울"},
        extra_body={"some_future_option": {"x": 1}})
    assert r.choices[0].message.content
    assert r.model_extra["jaju"]["ignored_params"] == [
        "prediction", "reasoning_effort", "service_tier", "some_future_option", "user"]


async def test_a_request_without_extras_lists_nothing(client):
    r = await client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=4, temperature=0)
    assert "ignored_params" not in r.model_extra["jaju"]


async def test_streamed_reply_lists_them_on_the_last_chunk(client):
    stream = await client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=6, temperature=0,
                                                  stream=True, service_tier="auto")
    finals = [c for c in [chunk async for chunk in stream] if c.model_extra.get("jaju")]
    assert finals and finals[-1].model_extra["jaju"]["ignored_params"] == ["service_tier"]


@pytest.mark.parametrize("extra, words", [
    ({"modalities": ["text", "audio"]}, "text only"),
    ({"audio": {"voice": "alloy", "format": "wav"}}, "audio output"),
    ({"web_search_options": {}}, "web search"),
    ({"functions": [{"name": "f", "parameters": {"type": "object"}}]}, "use `tools`"),
])
async def test_values_jaju_cannot_honour_are_refused(client, extra, words):
    with pytest.raises(openai.BadRequestError) as e:
        await client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=4, extra_body=extra)
    assert words in e.value.body["message"]


async def test_embeddings_name_the_unused_user(client):
    r = await client.embeddings.create(model="multilingual-e5-small", input=["서울은 한국의 수도입니다"],
                                       user="partner-user-17")
    assert len(r.data[0].embedding) == 384
    assert r.model_extra["jaju"]["ignored_params"] == ["user"]


async def test_completions_refuse_best_of(client):
    with pytest.raises(openai.BadRequestError) as e:
        await client.completions.create(model=MODEL, prompt="대한민국의 수도는", max_tokens=4, best_of=3)
    assert "best_of" in e.value.body["message"]
