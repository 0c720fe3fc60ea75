"""Safeguards in the real chat path: what the engine receives, what the tenant gets back."""

from __future__ import annotations

import json

import pytest

from tests.support import restore_attempts

pytestmark = [pytest.mark.anyio, pytest.mark.engine]
MODEL = "qwen2.5-coder-0.5b-instruct"
CHAT = "/v1/chat/completions"
RRN = "900101-1234567"
PHONE = "010-2345-6789"


@pytest.fixture
def recorded(services, monkeypatch):
    """Keep a copy of every request the real engine is given (the engine still runs)."""
    engine = services.models.loaded()[MODEL]
    seen = []
    original = engine.chat

    def spy(request):
        seen.append(json.loads(json.dumps(request.messages, ensure_ascii=False)))
        return original(request)

    monkeypatch.setattr(engine, "chat", spy)
    return seen


def auth(services):
    return {"Authorization": f"Bearer {services.admin_secret}"}


async def test_personal_data_never_reaches_the_engine(api, services, recorded):
    text = f"고객 홍길동님의 주민등록번호는 {RRN}이고 연락처는 {PHONE}입니다. 이 고객의 이름을 그대로 적어 주세요."
    r = await api.post(CHAT, headers=auth(services), json={
        "model": MODEL, "max_tokens": 24, "temperature": 0, "messages": [{"role": "user", "content": text}]})
    assert r.status_code == 200, r.text
    sent = json.dumps(recorded[-1], ensure_ascii=False)
    assert RRN not in sent and "1234567" not in sent and PHONE not in sent and "홍길동" not in sent
    assert "[KR_RRN_1]" in sent  # pseudonymised, so the model can still refer to the number
    body = r.json()
    assert body["jaju"]["pii"]["KR_RRN"] == 1 and body["jaju"]["pii"]["PERSON"] >= 1
    # no placeholder leaks back; that the originals come back is tests/privacy/test_roundtrip_engine.py
    reply = body["choices"][0]["message"]["content"]
    assert "PERSON_" not in reply and "KR_RRN_" not in reply and "KR_PHONE_" not in reply


async def test_streamed_reply_is_restored(api, services, recorded):
    """The model sees a stand-in name and the user gets the real one back in the stream.

    The stand-in comes from the tenant's key, and the small model at temperature 0 repeats some stand-ins
    and not others (about one tenant in ten it answers a plain greeting instead). So the promise is checked
    for up to three tenants: in none may the engine see the name or a placeholder reach the user, and in
    at least one the model must have repeated the stand-in, which the user then reads as 김민수.
    """
    text = "김민수 고객님께 보낼 인사말을 '김민수 고객님, 안녕하세요'로 시작해서 한 문장으로 써 주세요."
    contents = []
    for secret in restore_attempts(services, "복원-인사"):
        async with api.stream("POST", CHAT, headers={"Authorization": f"Bearer {secret}"}, json={
                "model": MODEL, "max_tokens": 30, "temperature": 0, "stream": True,
                "messages": [{"role": "user", "content": text}]}) as r:
            lines = [line async for line in r.aiter_lines() if line.startswith("data: {")]
        content = "".join(json.loads(ln[6:])["choices"][0]["delta"].get("content") or ""
                          for ln in lines if json.loads(ln[6:]).get("choices"))
        assert "김민수" not in json.dumps(recorded[-1], ensure_ascii=False)  # the engine saw a stand-in
        assert "PERSON_" not in content
        contents.append(content)
        if "김민수" in content:  # the user gets the real name back
            return
    raise AssertionError(f"the model repeated the name for none of three tenants: {contents}")


async def test_audit_event_counts_pii_without_values(api, services):
    await api.post(CHAT, headers=auth(services), json={
        "model": MODEL, "max_tokens": 4, "temperature": 0,
        "messages": [{"role": "user", "content": f"제 번호는 {PHONE}입니다."}]})
    services.audit.flush()
    from sqlalchemy import select

    from jaju.store.tables import AuditEvent
    with services.db.sessions() as s:
        body = s.scalars(select(AuditEvent.body).where(AuditEvent.action == "chat.completions")
                         .order_by(AuditEvent.seq.desc()).limit(1)).one()
    event = json.loads(body)
    assert event["pii"] == {"KR_PHONE": 1}
    assert PHONE not in body and "2345" not in body
