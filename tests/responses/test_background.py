"""Background responses (run as a task inside the server, retrieved later, cancelled) and bad input."""

from __future__ import annotations

import asyncio

import openai
import pytest

from tests.responses.conftest import auth

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"


@pytest.fixture
def client(api, services) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url="http://jaju.test/v1", api_key=services.admin_secret, http_client=api,
                              max_retries=0)


async def _settled(client, rid: str):
    for _ in range(600):  # polled as a client would; the bound only stops a hung test
        r = await client.responses.retrieve(rid)
        if r.status not in ("queued", "in_progress"):
            return r
        await asyncio.sleep(0.2)
    raise AssertionError(f"{rid} still {r.status}")


async def test_background_runs_and_is_retrieved(client):
    r = await client.responses.create(model=MODEL, input="대한민국의 수도는 어디인가요?", temperature=0,
                                      max_output_tokens=24, background=True)
    assert r.status in ("queued", "in_progress") and r.background is True and r.output == []
    done = await _settled(client, r.id)
    assert done.status in ("completed", "incomplete") and "서울" in done.output_text
    assert done.model_extra["jaju"]["provenance"]["signature"]
    items = await client.responses.input_items.list(r.id)
    assert items.data[0].content[0].text == "대한민국의 수도는 어디인가요?"
    with pytest.raises(openai.BadRequestError):  # only a running background response can be cancelled
        await client.responses.cancel(r.id) if done.status not in ("completed", "incomplete") else \
            await client.responses.cancel((await client.responses.create(
                model=MODEL, input="안녕", max_output_tokens=4, temperature=0)).id)


async def test_background_cancel(client):
    r = await client.responses.create(model=MODEL, input="한국의 역사를 자세히 설명해 주세요.", temperature=0,
                                      max_output_tokens=400, background=True)
    cancelled = await client.responses.cancel(r.id)
    assert cancelled.status == "cancelled"
    assert (await client.responses.retrieve(r.id)).status == "cancelled"
    await asyncio.sleep(0.5)  # a late result must not overwrite the cancellation
    assert (await client.responses.retrieve(r.id)).status == "cancelled"


@pytest.mark.parametrize(("body", "param", "code"), [
    ({"input": "안녕", "tools": [{"type": "web_search"}]}, "tools[0].type", "unsupported_tool_type"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "http://x"}]}]},
     "input[0].content[0].type", "unsupported_content_type"),
    ({"input": [{"type": "reasoning", "summary": []}]}, "input[0].type", "unsupported_item_type"),
    ({"input": [{"role": "robot", "content": "안녕"}]}, "input[0].role", "invalid_input"),
    ({"input": [{"type": "function_call_output", "output": "맑음"}]}, "input[0].call_id", "invalid_input"),
    ({"input": "안녕", "background": True, "store": False}, "background", "invalid_request"),
    ({"input": "안녕", "tool_choice": {"type": "file_search"}}, "tool_choice", "unsupported_tool_choice"),
])
async def test_bad_input_is_a_clear_400(api, services, body, param, code):
    r = await api.post("/v1/responses", headers=auth(services.admin_secret), json={"model": MODEL, **body})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["param"] == param and error["code"] == code and error["type"] == "invalid_request_error"


async def test_unknown_previous_response_is_404(api, services):
    r = await api.post("/v1/responses", headers=auth(services.admin_secret),
                       json={"model": MODEL, "input": "계속", "previous_response_id": "resp_없는것"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "response_not_found"
