"""Streaming output scan: identifiers split across chunks are still masked; ordinary text is not held back."""

from __future__ import annotations

import asyncio

from jaju.tenancy.principal import Principal


def guard_for(services):
    tenant = services.tenants.get("default")
    p = Principal(tenant.id, tenant.name, "key_test", frozenset({"inference"}), tenant.jurisdiction)
    guard = services.inference.safeguards.open(services.context(p, "test"))
    asyncio.run(guard.prepare([{"role": "user", "content": "홍길동님께 안부를 전해 주세요."}]))
    return guard


def test_text_flows_token_by_token(services):
    sg = guard_for(services).stream()
    assert sg.feed("서울은 ") == "서울은 "
    assert sg.feed("대한민국의 ") == "대한민국의 "
    token = next(t for t, v in sg.guard.session.values.items() if v == "홍길동")  # what the model saw
    assert token != "홍길동"
    assert sg.feed(f"{token}님") == "홍길동님"  # the pseudonym is restored in the stream


def test_identifier_split_across_chunks_is_masked(services):
    sg = guard_for(services).stream()
    out = "".join(sg.feed(c) for c in ["고객의 주민등록번호는 ", "8001", "01-12", "34567", "입니다."]) + sg.flush()
    assert "1234567" not in out and "800101-1" in out
    card = guard_for(services).stream()
    out = "".join(card.feed(c) for c in ["카드번호 ", "4111 1111", " 1111 1111", " 로 결제"]) + card.flush()
    assert "4111 1111 1111 1111" not in out
