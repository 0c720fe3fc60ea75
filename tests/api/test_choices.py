"""n, logprobs and logit_bias through the API with the official client: several choices share one prompt,
each labelled and signed; log-probabilities come back in OpenAI's shapes; a bias changes the answer."""

from __future__ import annotations

import math

import httpx
import openai
import pytest

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"
QUESTION = [{"role": "user", "content": "한국의 전통 음식 하나를 말해 주세요."}]


@pytest.fixture
async def client(app, services):
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jaju.test/v1")
    yield openai.AsyncOpenAI(api_key=services.admin_secret, base_url="http://jaju.test/v1", http_client=http,
                             max_retries=0)
    await http.aclose()


async def test_n_choices_each_signed(client, services):
    r = await client.chat.completions.create(model=MODEL, messages=QUESTION, n=3, max_tokens=12,
                                             temperature=1.0, seed=7)
    assert [c.index for c in r.choices] == [0, 1, 2]
    texts = [c.message.content for c in r.choices]
    assert all(texts) and len(set(texts)) > 1  # sampled independently, not copies
    assert r.usage.completion_tokens >= 3 and r.usage.prompt_tokens > 0
    manifests = r.model_extra["jaju"]["choices"]
    assert [m["index"] for m in manifests] == [0, 1, 2]
    for choice, m in zip(r.choices, manifests):
        assert services.compliance.verify(choice.message.content, m["provenance"]).ok
    other = next(c.message.content for c in r.choices if c.message.content != r.choices[0].message.content)
    assert not services.compliance.verify(other, manifests[0]["provenance"]).ok


async def test_greedy_choices_agree(client):
    r = await client.chat.completions.create(model=MODEL, messages=QUESTION, n=2, max_tokens=8, temperature=0)
    assert r.choices[0].message.content == r.choices[1].message.content


async def test_chat_logprobs_in_openai_shape(client):
    r = await client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=6, temperature=0,
                                             logprobs=True, top_logprobs=3)
    content = r.choices[0].logprobs.content
    assert content and "".join(t.token for t in content if not t.token.startswith("bytes:")).strip()
    for t in content:
        assert t.logprob <= 0 and math.isfinite(t.logprob)
        alternatives = [a.logprob for a in t.top_logprobs]
        assert len(alternatives) == 3 and alternatives == sorted(alternatives, reverse=True)
        assert t.top_logprobs[0].token == t.token  # greedy: the sampled token is the most likely one


async def test_streamed_logprobs(client):
    stream = await client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=5, temperature=0,
                                                  logprobs=True, stream=True)
    tokens = [t for c in [chunk async for chunk in stream] if c.choices and c.choices[0].logprobs
              for t in c.choices[0].logprobs.content]
    assert len(tokens) >= 4 and all(t.logprob <= 0 for t in tokens)


async def test_completion_logprobs_legacy_shape(client):
    r = await client.completions.create(model=MODEL, prompt="대한민국의 수도는", max_tokens=4, temperature=0,
                                        logprobs=2)
    lp = r.choices[0].logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset)
    assert all(len(top) <= 2 for top in lp.top_logprobs) and lp.text_offset == sorted(lp.text_offset)


async def test_logit_bias_bans_the_first_token(client, services):
    first = await client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=3, temperature=0,
                                                 logprobs=True)
    engine = services.models.loaded()[MODEL]
    banned = engine.tokenize(first.choices[0].logprobs.content[0].token, special=False, add_bos=False)[0]
    again = await client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=3, temperature=0,
                                                 logprobs=True, logit_bias={str(banned): -100})
    assert again.choices[0].logprobs.content[0].token != first.choices[0].logprobs.content[0].token


async def test_logit_bias_outside_the_vocabulary_is_refused(client):
    with pytest.raises(openai.BadRequestError) as e:
        await client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=3,
                                             logit_bias={"999999999": 5})
    assert e.value.body["param"] == "logit_bias"
