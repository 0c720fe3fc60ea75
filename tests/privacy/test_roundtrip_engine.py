"""The user gets their own data back: the real default model, through the in-process app, temperature 0.

The engine must never see the values; the reply must hold the originals (not placeholders, not
surrogates), in plain and streamed replies. Prompts are ones the model repeats at temperature 0
(benchmarks/pseudonym_prompts.py; the share over all 44 is in docs/benchmarks.md), for at least one of
up to three tenants (`restore_attempts`: each tenant's stand-ins differ).
"""

from __future__ import annotations

import json

import pytest

from tests.support import restore_attempts, spy_on_chat

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"
CHAT = "/v1/chat/completions"
# Any form of a placeholder the model may leave (PERSON_1, [KR_PHONE_1], kr-rrn 1).
LEFTOVER = ("PERSON", "KR_PHONE", "KR_RRN", "KR-", "person_")

CASES = [
    # The reported failure: the model wrote "KR_PHONE_1이고 이름은 PERSON_1입니다" without brackets.
    ("제 전화번호는 010-1234-5678이고 이름은 홍길동입니다. 제 이름과 전화번호를 다시 말해 주세요.", ("홍길동", "010-1234-5678")),
    # The model answers with a bare KR_RRN_1.
    ("제 주민등록번호는 900101-1234568입니다. 방금 말한 주민등록번호를 그대로 적어 주세요.", ("900101-1234568",)),
    ("고객 이영희님의 연락처는 010-9876-5432입니다. 이 고객의 이름과 연락처를 정리해 주세요.", ("이영희", "010-9876-5432")),
]


@pytest.fixture
def sent(services, monkeypatch):
    """Every request the real engine is given, as JSON text (the engine still runs)."""
    return spy_on_chat(services.models.loaded()[MODEL], monkeypatch)


@pytest.mark.parametrize(("prompt", "values"), CASES)
async def test_reply_gives_the_user_their_original_values(api, services, sent, prompt, values):
    replies = []
    for secret in restore_attempts(services, "복원-왕복"):
        r = await api.post(CHAT, headers={"Authorization": f"Bearer {secret}"}, json={
            "model": MODEL, "max_tokens": 48, "temperature": 0, "seed": 7,
            "messages": [{"role": "user", "content": prompt}]})
        assert r.status_code == 200, r.text
        reply = r.json()["choices"][0]["message"]["content"]
        assert not any(v in sent[-1] for v in values)  # the engine never saw them
        assert not any(t in reply for t in LEFTOVER), reply
        replies.append(reply)
        if all(v in reply for v in values):
            return
    raise AssertionError(f"no tenant's reply held all of {values}: {replies}")


async def test_streamed_reply_gives_the_original_values(api, services, sent):
    prompt, values = CASES[0]
    contents = []
    for secret in restore_attempts(services, "복원-스트림"):
        async with api.stream("POST", CHAT, headers={"Authorization": f"Bearer {secret}"}, json={
                "model": MODEL, "max_tokens": 48, "temperature": 0, "seed": 7, "stream": True,
                "messages": [{"role": "user", "content": prompt}]}) as r:
            lines = [line async for line in r.aiter_lines() if line.startswith("data: {")]
        chunks = [json.loads(ln[6:]) for ln in lines]
        content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
        assert not any(v in sent[-1] for v in values)
        assert not any(t in content for t in LEFTOVER), content
        contents.append(content)
        if all(v in content for v in values):
            return
    raise AssertionError(f"no tenant's stream held all of {values}: {contents}")
