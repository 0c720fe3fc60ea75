"""The UTF-8 guard's table: which token bytes may follow the unfinished character of a reply."""

import pytest

from jaju.engine.logprobs import token_text
from jaju.engine.utf8guard import CLEAN, Utf8Guard, state_of

GA = "가".encode()  # EA B0 80
PIECES = [
    "서울".encode(),  # 0 whole syllables
    GA[:1],  # 1 a lead byte: starts a syllable
    GA[1:],  # 2 two continuation bytes: finish a syllable after its lead byte
    GA[2:],  # 3 one continuation byte
    GA[1:] + "은".encode(),  # 4 finishes one syllable, then a whole one
    b"\xc0",  # 5 never valid in UTF-8
    b"",  # 6 a control token (end of generation)
    b"abc" + GA[:2],  # 7 ends in an unfinished syllable
    b"\xed\xa0",  # 8 a surrogate's start: invalid
    GA[2:] + b"\x80",  # 9 two continuation bytes again
    b"a\x80",  # 10 a stray continuation byte in the middle
]


@pytest.fixture(scope="module")
def guard() -> Utf8Guard:
    return Utf8Guard(PIECES)


def allowed(guard, state) -> set[int]:
    return {i for i, ok in enumerate(guard.allowed(state)) if ok}


def test_between_characters_no_stray_bytes(guard):
    assert allowed(guard, CLEAN) == {0, 1, 6, 7}


def test_after_a_lead_byte_only_its_continuations(guard):
    state = state_of(GA[:1])  # two continuation bytes due
    assert state[0] == 2
    assert allowed(guard, state) == {2, 3, 4, 9}


def test_one_byte_due(guard):
    assert allowed(guard, state_of(GA[:2])) == {3}


def test_second_byte_range_after_ed_excludes_surrogates():
    pieces = [b"\x80", b"\xa0", b"\x9f"]
    assert list(Utf8Guard(pieces).allowed(state_of(b"\xed"))) == [True, False, True]


def test_token_text_spells_fragments_as_openai_does():
    assert token_text("서울".encode()) == "서울"
    assert token_text(GA[:2]) == "bytes:\\xea\\xb0"
