"""Chat templates, tool-call parsing and output grammars."""

import json

import pytest

from jaju.engine.template import (ChatTemplate, parse_bare_tool_call, parse_tool_calls,
                                  response_format_grammar, tool_call_grammar)
from jaju.errors import ApiError

WEATHER = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


def test_parse_tool_calls_korean_arguments():
    calls = parse_tool_calls('<tool_call>\n{"name": "get_weather", "arguments": {"city": "서울"}}\n</tool_call>'
                             '<tool_call>{"name": "get_weather", "arguments": {"city": "부산"}}</tool_call>')
    assert [c.name for c in calls] == ["get_weather", "get_weather"]
    assert json.loads(calls[0].arguments) == {"city": "서울"}
    assert calls[0].id != calls[1].id and calls[0].id.startswith("call_")


@pytest.mark.parametrize("text", ['<tool_call>{"name": 3}</tool_call>', "<tool_call>not json</tool_call>", ""])
def test_parse_tool_calls_rejects_malformed(text):
    assert parse_tool_calls(text) == []


@pytest.mark.parametrize("text, names, expected", [
    ('```json\n{"name": "get_weather", "arguments": {"city": "서울"}}\n```', {"get_weather"}, 1),
    ('{"name": "get_weather", "arguments": {"city": "서울"}}', {"get_weather"}, 1),
    ('{"name": "delete_all", "arguments": {}}', {"get_weather"}, 0),  # not an offered tool
    ('서울은 맑습니다. {"name": "get_weather"}', {"get_weather"}, 0),  # prose is not a call
])
def test_bare_tool_call_only_for_offered_tools(text, names, expected):
    assert len(parse_bare_tool_call(text, names)) == expected


def test_template_renders_tools_and_korean():
    tpl = ChatTemplate("{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
                       "{% if tools %}[{{ tools | length }} tools]{% endif %}")
    out = tpl.render([{"role": "user", "content": [{"type": "text", "text": "안녕"}]}], WEATHER)
    assert out == "<user>안녕[1 tools]"


def test_template_error_is_a_400():
    tpl = ChatTemplate("{{ raise_exception('Conversation roles must alternate') }}")
    with pytest.raises(ApiError) as e:
        tpl.render([{"role": "user", "content": "x"}])
    assert e.value.status == 400 and "alternate" in e.value.message


def test_grammars():
    assert "<tool_call>" in tool_call_grammar(WEATHER, "get_weather")
    with pytest.raises(ApiError):
        tool_call_grammar(WEATHER, "nope")
    assert response_format_grammar(None) is None
    assert response_format_grammar({"type": "text"}) is None
    assert "root" in response_format_grammar({"type": "json_object"})
    g = response_format_grammar({"type": "json_schema", "json_schema": {"schema": {
        "type": "object", "properties": {"이름": {"type": "string"}}, "required": ["이름"]}}})
    assert "root" in g
    with pytest.raises(ApiError):
        response_format_grammar({"type": "json_schema", "json_schema": {"name": "x"}})
