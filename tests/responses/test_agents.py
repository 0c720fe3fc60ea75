"""The openai-agents SDK runs a small agent with a function tool against jaju's Responses API."""

from __future__ import annotations

import openai
import pytest
from agents import Agent, ModelSettings, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"


async def test_agent_calls_a_tool_and_answers(api, services):
    set_tracing_disabled(True)  # no trace export (there is no network here)
    asked: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """도시의 현재 날씨를 알려 준다."""
        asked.append(city)
        return f"{city}: 맑음, 기온 23도"

    client = openai.AsyncOpenAI(base_url="http://jaju.test/v1", api_key=services.admin_secret, http_client=api,
                                max_retries=0)
    agent = Agent(name="날씨 안내원", instructions="날씨 질문에는 get_weather 도구로 확인한 뒤 한국어로 답하세요.",
                  tools=[get_weather], model=OpenAIResponsesModel(model=MODEL, openai_client=client),
                  model_settings=ModelSettings(temperature=0, max_tokens=256, tool_choice="required"))
    result = await Runner.run(agent, "서울 날씨 어때?", max_turns=4)
    assert asked and "서울" in asked[0]
    assert "23" in result.final_output
