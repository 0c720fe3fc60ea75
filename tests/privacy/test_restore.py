"""Restoring tokens in the forms a model writes them: plain, streamed (every split) and in JSON arguments."""

from __future__ import annotations

import json

import pytest

from jaju.privacy.hashing import TenantHasher
from jaju.privacy.operators import OperatorContext, apply
from jaju.privacy.restore import StreamRestorer, restore_arguments
from jaju.privacy.session import Session
from jaju.privacy.surrogates import GIVEN_CLOSED, GIVEN_OPEN, ONE_CLOSED, ONE_OPEN, has_final, rrn_check


def _session() -> Session:
    s = Session("t", "c")
    s.remember("[PERSON_1]", "d1", "홍길동")
    s.remember("[KR_PHONE_1]", "d2", "010-1234-5678")
    s.remember("[PERSON_2]", "d3", "김영희")
    s.remember("[EMAIL_1]", "d4", 'a"b\\c@example.org')
    return s


@pytest.mark.parametrize(("model_wrote", "user_gets"), [
    ("[PERSON_1]", "홍길동"),
    ("PERSON_1", "홍길동"),                        # brackets dropped (the reported failure)
    ("저의 전화번호는 KR_PHONE_1이고 이름은 PERSON_1입니다.", "저의 전화번호는 010-1234-5678이고 이름은 홍길동입니다."),
    ("【PERSON_1】님", "홍길동님"),                   # full-width brackets
    ("［PERSON_1］", "홍길동"),
    ("[ PERSON_1 ]", "홍길동"),                      # spaces inside
    ("[PERSON 1]", "홍길동"),
    ("person_1 씨", "홍길동 씨"),                     # case changed
    ("Person-1님이", "홍길동님이"),                   # hyphen for underscore, particle attached
    ("KR-PHONE-1로 연락", "010-1234-5678로 연락"),
    ("kr phone 1", "010-1234-5678"),
    ("[PERSON_1]은 [PERSON_2]를 만났다", "홍길동은 김영희를 만났다"),
    ("PERSON_2은 왔다", "김영희는 왔다"),               # particle fitted to the restored name
    ("PERSON_1가 왔다", "홍길동이 왔다"),
    ("PERSON_1과 PERSON_2와", "홍길동과 김영희와"),
    ("PERSON_12와 [PERSON_9], PERSONAL_1", "PERSON_12와 [PERSON_9], PERSONAL_1"),  # unknown tokens stay
    ("a[1]과 [x] 배열", "a[1]과 [x] 배열"),
    ("XPERSON_1", "XPERSON_1"),
])
def test_placeholder_forms_are_restored(model_wrote: str, user_gets: str) -> None:
    assert _session().restore(model_wrote) == user_gets


TEXT = "PERSON_1님, [KR_PHONE_1]로 연락드릴게요. 【person 2】가 확인했고 [x] 배열 a[1]과 [PERSON_9]는 그대로. Kr_Phone_1"
RESTORED = "홍길동님, 010-1234-5678로 연락드릴게요. 김영희가 확인했고 [x] 배열 a[1]과 [PERSON_9]는 그대로. 010-1234-5678"


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 11, 200])
def test_stream_restores_every_form_at_every_split(size: int) -> None:
    r = StreamRestorer(_session())
    chunks = [TEXT[i:i + size] for i in range(0, len(TEXT), size)]
    out = [r.feed(c) for c in chunks] + [r.flush()]
    assert "".join(out) == RESTORED  # nothing of a known token was released before it was complete


def test_stream_does_not_emit_a_shorter_number_early() -> None:
    s = _session()
    for i in range(3, 13):
        s.remember(f"[PERSON_{i}]", f"x{i}", f"사람{i}")
    r = StreamRestorer(s)
    assert r.feed("PERSON_1") == ""  # may still become PERSON_12
    assert r.feed("2 왔다") + r.flush() == "사람12 왔다"


def test_tool_call_arguments_stay_valid_json() -> None:
    args = json.dumps({"to": "EMAIL_1", "name": "[PERSON_1]님", "nested": [{"phone": "kr_phone_1"}]})
    out = restore_arguments(_session(), args)
    assert json.loads(out) == {"to": 'a"b\\c@example.org', "name": "홍길동님", "nested": [{"phone": "010-1234-5678"}]}


def test_tool_call_arguments_that_are_not_json_are_restored_as_text() -> None:
    assert restore_arguments(_session(), "{name: PERSON_1") == "{name: 홍길동"


# ---------------------------------------------------------------- surrogates
def _ctx(real: frozenset[str] = frozenset()) -> OperatorContext:
    return OperatorContext("t", TenantHasher(b"k" * 32), Session("t", "c"), real)


def test_surrogate_name_is_fake_stable_and_keeps_particles_right() -> None:
    ctx = _ctx(frozenset({"홍길동", "김민준"}))
    fake = apply("surrogate", "PERSON", "홍길동", ctx)
    assert fake != "홍길동" and fake != "김민준" and len(fake) == 3
    assert has_final(fake[-1]) == has_final("동")  # 받침 matches, so 이/은/을 stay right
    assert apply("surrogate", "PERSON", "홍길동", ctx) == fake  # same value, same surrogate
    other = apply("surrogate", "PERSON", "이수아", ctx)
    assert other != fake and not has_final(other[-1])
    s = ctx.session
    assert s.restore(f"{fake}님이 {other}에게 연락했고 {fake[0]} {fake[1:]}은 떠났다, {fake[:2]} {fake[2]}") == \
        "홍길동님이 이수아에게 연락했고 홍길동은 떠났다, 홍길동"


def test_name_lists_are_filed_by_final_consonant() -> None:
    assert not [g for g in GIVEN_OPEN + ONE_OPEN if has_final(g[-1])]
    assert [g for g in GIVEN_CLOSED + ONE_CLOSED if has_final(g[-1])] == list(GIVEN_CLOSED + ONE_CLOSED)


def test_surrogate_given_name_alone() -> None:
    fake = apply("surrogate", "PERSON", "민수", _ctx())
    assert len(fake) == 2 and fake != "민수"


def test_surrogate_phone_is_in_the_unissued_exchange_range_and_restores_in_any_layout() -> None:
    ctx = _ctx()
    fake = apply("surrogate", "KR_PHONE", "010-1234-5678", ctx)
    assert fake.startswith("010-0") and len(fake) == 13 and fake != "010-1234-5678"
    digits = fake.replace("-", "")
    assert ctx.session.restore(f"번호는 {digits}입니다") == "번호는 010-1234-5678입니다"
    assert ctx.session.restore(f"번호는 {fake.replace('-', ' ')}") == "번호는 010-1234-5678"
    assert apply("surrogate", "KR_PHONE", "02-123-4567", ctx).startswith("02-0")


def test_surrogate_rrn_is_checksum_valid_with_an_unused_region_code() -> None:
    ctx = _ctx()
    fake = apply("surrogate", "KR_RRN", "900101-1234568", ctx)
    d = fake.replace("-", "")
    assert len(d) == 13 and fake[6] == "-" and d[6] == "1" and d[7:9] in ("96", "97", "98", "99")
    assert rrn_check(d[:12]) == d[12]
    assert ctx.session.restore(f"주민번호 {fake}") == "주민번호 900101-1234568"


def test_surrogate_email_and_fallback_to_placeholder() -> None:
    ctx = _ctx()
    assert apply("surrogate", "EMAIL", "hong@corp.kr", ctx).endswith("@example.com")
    assert apply("surrogate", "KR_ADDRESS", "서울특별시 중구 세종대로 110", ctx) == "[KR_ADDRESS_1]"


def test_streamed_surrogates_are_held_until_complete() -> None:
    ctx = _ctx()
    name = apply("surrogate", "PERSON", "홍길동", ctx)
    phone = apply("surrogate", "KR_PHONE", "010-1234-5678", ctx)
    text = f"{name}님의 번호는 {phone}입니다."
    for size in (1, 2, 3, 5):
        r = StreamRestorer(ctx.session)
        out = [r.feed(text[i:i + size]) for i in range(0, len(text), size)] + [r.flush()]
        assert "".join(out) == "홍길동님의 번호는 010-1234-5678입니다."
        assert not any(name[:2] in piece for piece in out if piece)
