"""Sliding history with the default model's own tokenizer and chat template, on Korean conversations."""

from __future__ import annotations

import pytest

from jaju.engine.base import ChatRequest
from jaju.errors import InvalidRequest
from jaju.korean.history import fit_history, fit_history_async

pytestmark = pytest.mark.engine

SYSTEM = {"role": "system", "content": "당신은 한국어로 답하는 여행 도우미입니다."}
TURNS = [
    ("부산에서 꼭 먹어야 할 음식은 뭐예요?", "돼지국밥과 밀면, 씨앗호떡을 추천합니다. 자갈치시장의 회도 유명합니다."),
    ("해운대 말고 조용한 해변도 있나요?", "송정해수욕장과 다대포해수욕장이 비교적 한적합니다."),
    ("비 오는 날에는 어디가 좋을까요?", "부산시립미술관이나 국립해양박물관처럼 실내 명소를 추천합니다."),
    ("감천문화마을은 어떻게 가요?", "토성역에서 마을버스를 타면 약 10분 걸립니다."),
]
LAST = {"role": "user", "content": "그럼 하루 일정으로 정리해 주세요."}


def conversation() -> list[dict]:
    messages = [SYSTEM]
    for question, answer in TURNS:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return messages + [LAST]


@pytest.fixture(scope="module")
def count(services):
    backend = services.models.loaded()[services.settings.engine.default_model]
    model = services.settings.engine.default_model

    def count_tokens(messages: list[dict]) -> int:
        return len(backend.tokenize(backend.render_chat(ChatRequest(model=model, messages=messages)), special=True))

    return count_tokens


def test_whole_history_is_kept_when_it_fits(count):
    messages = conversation()
    assert fit_history(messages, count, count(messages)) == messages


def test_oldest_turns_go_first_and_the_result_is_the_longest_that_fits(count):
    messages = conversation()
    budget = count(messages) - 1
    kept = fit_history(messages, count, budget)
    assert kept[0] == SYSTEM and kept[-1] == LAST
    assert count(kept) <= budget
    # exactly the first turn (question and answer) went
    assert kept == [SYSTEM, *messages[3:]]
    tight = fit_history(messages, count, count([SYSTEM, LAST]))
    assert tight == [SYSTEM, LAST]


def test_system_messages_stay_where_they_are(count):
    note = {"role": "developer", "content": "답변은 세 문장 이내로 하세요."}
    messages = conversation()
    messages.insert(3, note)  # a developer message in the middle of the history
    kept = fit_history(messages, count, count([SYSTEM, note, LAST]) + 5)
    assert kept == [SYSTEM, note, LAST]


def test_tool_calls_stay_with_their_results(count):
    call = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "부산"}'}}]}
    result = {"role": "tool", "tool_call_id": "call_1", "content": "부산: 맑음, 18도"}
    call_2 = {"id": "call_2", "type": "function", "function": {"name": "weather", "arguments": '{"city": "서울"}'}}
    messages = [SYSTEM, {"role": "user", "content": "부산 날씨 어때요?"}, call, result,
                {"role": "assistant", "content": "부산은 맑고 18도입니다."},
                {"role": "user", "content": "서울은요?"}, call | {"tool_calls": [call_2]},
                {"role": "tool", "tool_call_id": "call_2", "content": "서울: 흐림, 12도"}]
    for budget in range(count(messages[:1] + messages[5:]), count(messages)):
        kept = fit_history(messages, count, budget)
        ids = {c["id"] for m in kept for c in m.get("tool_calls") or []}
        answered = {m["tool_call_id"] for m in kept if m["role"] == "tool"}
        assert ids == answered  # never a call without its result, nor a result without its call
        assert kept[-3]["content"] == "서울은요?"


def test_last_turn_too_long_is_context_length_exceeded(count):
    long_question = {"role": "user", "content": "다음 글을 요약해 주세요. " + "대한민국은 민주공화국이다. " * 200}
    messages = [SYSTEM, *conversation()[1:-1], long_question]
    with pytest.raises(InvalidRequest) as e:
        fit_history(messages, count, 256)
    assert e.value.code == "context_length_exceeded" and e.value.status == 400
    assert "256" in e.value.message


@pytest.mark.anyio
async def test_async_counter_gives_the_same_answer(services, count):
    backend = services.models.loaded()[services.settings.engine.default_model]
    model = services.settings.engine.default_model
    messages = conversation()
    budget = count(messages) // 2

    async def acount(msgs):
        return await backend.count_tokens(model, messages=msgs)

    assert await fit_history_async(messages, acount, budget) == fit_history(messages, count, budget)
