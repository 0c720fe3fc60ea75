"""Streaming text helpers: UTF-8 across token boundaries, stop strings, tool-call markup."""

import pytest

from jaju.engine.textstream import StopScanner, ToolCallSplitter, Utf8Stream


def test_korean_syllable_split_across_pieces():
    data = "서울입니다".encode()
    s = Utf8Stream()
    out = "".join(s.feed(data[i:i + 1]) for i in range(len(data))) + s.finish()
    assert out == "서울입니다"
    s2 = Utf8Stream()
    assert s2.feed(data[:2]) == ""  # an incomplete syllable is held back, not replaced


@pytest.mark.parametrize("chunks, stops, expected, stopped", [
    (["대한민국의 ", "수도는 ", "서울"], ["\n\n"], "대한민국의 수도는 서울", False),
    (["답: 서울", "\n\n", "다음"], ["\n\n"], "답: 서울", True),
    (["서울", "입니", "다.", "끝"], ["니다."], "서울입", True),
    (["abc", "EN", "D", "xyz"], ["END"], "abc", True),
    (["abE", "Nx"], ["END"], "abENx", False),  # a near miss is released once it cannot match
])
def test_stop_scanner(chunks, stops, expected, stopped):
    s = StopScanner(stops)
    out = "".join(s.feed(c) for c in chunks) + s.flush()
    assert out == expected
    assert s.stopped is stopped


def test_stop_scanner_holds_only_possible_prefix():
    s = StopScanner(["###"])
    assert s.feed("서울#") == "서울"
    assert s.feed("x") == "#x"


def test_tool_call_splitter_separates_markup():
    t = ToolCallSplitter()
    out = "".join(t.feed(c) for c in ["날씨를 ", "확인할게요.<tool", "_call>\n{\"name\": \"w\"}", "</tool_call>"])
    out += t.flush()
    assert out == "날씨를 확인할게요."
    assert t.in_tools and t.tool_text.startswith("<tool_call>")


def test_tool_call_splitter_releases_false_start():
    t = ToolCallSplitter()
    assert t.feed("a <to") == "a "
    assert t.feed("p>") == "<top>"
    assert not t.in_tools
