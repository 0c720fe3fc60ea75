"""jaju.speech_level and jaju.history in the chat path, with the real engine."""

from __future__ import annotations

import pytest

from jaju.korean.speech import SpeechLevel

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"
CHAT = "/v1/chat/completions"


def auth(services):
    return {"Authorization": f"Bearer {services.admin_secret}"}


async def test_formal_answer_keeps_the_requested_level(api, services):
    r = await api.post(CHAT, headers=auth(services), json={
        "model": MODEL, "max_tokens": 48, "temperature": 0, "jaju": {"speech_level": "formal"},
        "messages": [{"role": "user", "content": "서울에 대해 두 문장으로 소개해 줘."}]})
    assert r.status_code == 200, r.text
    body = r.json()
    text = body["choices"][0]["message"]["content"]
    assert body["jaju"]["speech_level"]["level"] == "formal"
    levels = [level for _, level in SpeechLevel(services.korean, "formal").sentences(text)]
    assert levels and all(level in ("formal", None) for level in levels), (text, levels)


async def test_unknown_speech_level_is_a_400(api, services):
    r = await api.post(CHAT, headers=auth(services), json={
        "model": MODEL, "max_tokens": 4, "jaju": {"speech_level": "royal"},
        "messages": [{"role": "user", "content": "안녕"}]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "jaju.speech_level"


async def test_sliding_history_fits_what_the_full_history_cannot(api, services):
    turn = "지난주 회의에서 논의한 예산 집행 계획과 일정, 담당 부서별 역할을 자세히 다시 정리해 주세요. " * 5
    messages = [{"role": "system", "content": "당신은 행정 업무를 돕는 비서입니다."}]
    for i in range(20):
        messages += [{"role": "user", "content": f"{i}번째 질문: {turn}"},
                     {"role": "assistant", "content": f"{i}번째 답변: {turn}"}]
    messages.append({"role": "user", "content": "대한민국의 수도는 어디인가요?"})
    full = await api.post(CHAT, headers=auth(services), json={"model": MODEL, "max_tokens": 8, "messages": messages})
    assert full.status_code == 400 and full.json()["error"]["code"] == "context_length_exceeded"
    r = await api.post(CHAT, headers=auth(services), json={
        "model": MODEL, "max_tokens": 8, "temperature": 0, "messages": messages, "jaju": {"history": "sliding"}})
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["prompt_tokens"] <= 4096 - 8
