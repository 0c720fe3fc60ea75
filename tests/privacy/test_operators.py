"""Operators, policy parsing and the streaming restorer."""

from __future__ import annotations

import asyncio

import pytest

from jaju.errors import ConfigError
from jaju.privacy.hashing import TenantHasher
from jaju.privacy.operators import OperatorContext, apply, mask
from jaju.privacy.policy import PrivacyPolicy
from jaju.privacy.restore import StreamRestorer, restore_stream
from jaju.privacy.session import Session


@pytest.mark.parametrize(("entity", "value", "masked"), [
    ("KR_RRN", "901010-1234567", "901010-1******"),
    ("KR_PHONE", "010-1234-5678", "010-****-5678"),
    ("KR_PHONE", "02-123-4567", "02-***-4567"),
    ("KR_PHONE", "01012345678", "010****5678"),
    ("CREDIT_CARD", "4111-1111-1111-1111", "****-****-****-1111"),
    ("EMAIL", "hong@example.com", "h***@example.com"),
    ("PERSON", "홍길동", "홍*동"),
    ("PERSON", "이건", "이*"),
])
def test_mask(entity: str, value: str, masked: str) -> None:
    assert mask(entity, value) == masked


def test_hash_is_stable_per_tenant_and_differs_across_tenants(hasher: TenantHasher) -> None:
    a = apply("hash", "KR_PHONE", "010-1234-5678", OperatorContext("t1", hasher))
    b = apply("hash", "KR_PHONE", "01012345678", OperatorContext("t1", hasher))
    c = apply("hash", "KR_PHONE", "010-1234-5678", OperatorContext("t2", hasher))
    assert a == b != c and a.startswith("<KR_PHONE#") and "5678" not in a


def test_redact() -> None:
    assert apply("redact", "KR_RRN", "901010-1234567", OperatorContext("t", TenantHasher(b"x" * 32))) == "<KR_RRN>"


def test_policy_from_dict_overrides_and_defaults() -> None:
    p = PrivacyPolicy.from_dict({"KR_RRN": {"model_input": "block"}, "*": {"logs": "hash"},
                                 "PERSON": {"storage": "pseudonymise"}})
    assert p.action("KR_RRN", "model_input") == "block"
    assert p.action("KR_RRN", "storage") == "mask"  # default kept
    assert p.action("PERSON", "storage") == "pseudonymize"
    assert p.action("SOMETHING_NEW", "logs") == "hash"


def test_default_policy_keeps_rrn_from_models() -> None:
    assert PrivacyPolicy().action("KR_RRN", "model_input") in ("redact", "pseudonymize", "block")
    assert PrivacyPolicy().action("PERSON", "model_input") == "surrogate"  # pseudonymised, with a fake name
    assert PrivacyPolicy().action("PERSON", "storage") == "pseudonymize"
    placeholders = PrivacyPolicy.from_dict({"PERSON": {"model_input": "placeholder"}})
    assert placeholders.action("PERSON", "model_input") == "pseudonymize"


@pytest.mark.parametrize("bad", [{"KR_RRN": {"model_input": "shred"}}, {"KR_RRN": {"training": "allow"}},
                                 {"KR_RRN": "redact"}])
def test_policy_rejects_bad_dicts(bad: dict) -> None:
    with pytest.raises(ConfigError):
        PrivacyPolicy.from_dict(bad)


def _session() -> Session:
    s = Session("t", "c")
    s.remember("[PERSON_1]", "d1", "홍길동")
    s.remember("[KR_PHONE_12]", "d2", "010-1234-5678")
    return s


TEXT = "[PERSON_1]님, [KR_PHONE_12]로 연락드릴게요. [x] 배열 a[1]과 [PERSON_9]는 그대로."
RESTORED = "홍길동님, 010-1234-5678로 연락드릴게요. [x] 배열 a[1]과 [PERSON_9]는 그대로."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11])
def test_restorer_handles_every_split(size: int) -> None:
    r = StreamRestorer(_session())
    chunks = [TEXT[i:i + size] for i in range(0, len(TEXT), size)]
    assert "".join(r.feed(c) for c in chunks) + r.flush() == RESTORED


def test_restorer_holds_back_only_a_possible_placeholder_prefix() -> None:
    r = StreamRestorer(_session())
    assert r.feed("안녕 [PER") == "안녕 "
    assert r.feed("SON_1") == ""
    assert r.feed("]님 [a") == "홍길동님 [a"  # "[a" cannot start a known placeholder
    assert r.feed("b [KR_PHONE_1") == "b "
    assert r.feed("]") == "[KR_PHONE_1]"  # not a known placeholder: passed through


def test_restore_stream_async() -> None:
    async def chunks():
        for c in ["[PERS", "ON_1]님 안", "녕하세요 [KR_", "PHONE_12", "]"]:
            yield c

    async def collect() -> str:
        return "".join([c async for c in restore_stream(_session(), chunks())])

    assert asyncio.run(collect()) == "홍길동님 안녕하세요 010-1234-5678"
