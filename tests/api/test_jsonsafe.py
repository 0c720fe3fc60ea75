"""jsonsafe.loads skips its walk only when the raw text cannot hide a problem: bytes from an upstream included."""

from __future__ import annotations

import pytest

from jaju.protocol.jsonsafe import JsonRejected, check_embedded_json, loads

CHUNK = '{"choices":[{"index":0,"delta":{"content":"서울은 대한민국의 수도입니다."}}]}'


@pytest.mark.parametrize("raw", [CHUNK, CHUNK.encode()])
def test_an_ordinary_chunk_decodes(raw):
    assert loads(raw)["choices"][0]["delta"]["content"] == "서울은 대한민국의 수도입니다."


@pytest.mark.parametrize("raw", ['{"content":"\\ud800"}', b'{"content":"\\uDBFF"}', '{"content":"\ud800"}'])
def test_a_lone_surrogate_is_refused_with_its_place(raw):
    with pytest.raises(JsonRejected, match="lone UTF-16 surrogate") as e:
        loads(raw)
    assert e.value.path == "content"


def test_a_pair_of_surrogates_is_one_character():
    assert loads(b'{"e":"\\ud83d\\ude00"}') == {"e": "\U0001F600"}


@pytest.mark.parametrize("raw", ["[" * 65 + "]" * 65, ("{\"a\":" * 65 + "1" + "}" * 65).encode()])
def test_too_deep_is_refused(raw):
    with pytest.raises(JsonRejected, match="nested more than 64"):
        loads(raw)


def test_embedded_json_shares_the_check():
    check_embedded_json('{"city": "서울"}')  # fine
    check_embedded_json("그냥 문장입니다 [1] {2}")  # not JSON at all: used as plain text
    with pytest.raises(ValueError, match="lone UTF-16 surrogate"):
        check_embedded_json('{"city": "\\udc00"}')
