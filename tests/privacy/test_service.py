"""PrivacyService on the chat path: what the engine receives, pseudonym stability, blocking, restoring."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from jaju.errors import ApiError
from jaju.privacy.policy import PrivacyPolicy
from jaju.privacy.service import PrivacyService
from jaju.privacy.tables import PseudonymEntry

# Placeholders for every entity (the default gives names surrogates; see test_surrogates_* below).
PLACEHOLDERS = PrivacyPolicy(surrogates=frozenset())
RRN = "900101-1234568"
PHONE = "010-1234-5678"


def conv() -> str:
    return f"conv-{uuid.uuid4()}"


class RecordingEngine:
    """Stands where the backend stands: keeps exactly what it was sent and answers with placeholders."""

    def __init__(self) -> None:
        self.received: list[dict] = []

    def chat(self, messages: list[dict]) -> str:
        self.received = messages
        text = json.dumps(messages, ensure_ascii=False)
        names = [t for t in ("[PERSON_1]", "[KR_PHONE_1]") if t in text]
        return f"{names[0]}님, 요청하신 내용을 {names[1]}로 안내드렸습니다." if len(names) == 2 else "확인했습니다."


def test_engine_never_sees_rrn_names_or_phone(service: PrivacyService) -> None:
    engine = RecordingEngine()
    messages = [{"role": "system", "content": "친절한 상담원입니다."},
                {"role": "user", "content": f"홍길동입니다. 주민번호 {RRN}, 연락처 {PHONE}로 연락 주세요."}]
    protected, session = service.protect("tenant-a", messages, PLACEHOLDERS, conv())
    reply = engine.chat(protected)
    sent = json.dumps(engine.received, ensure_ascii=False)
    assert RRN not in sent and "1234568" not in sent and PHONE not in sent and "홍길동" not in sent
    assert "[KR_RRN_1]" in sent and "[PERSON_1]" in sent
    assert service.restore(session, reply) == f"홍길동님, 요청하신 내용을 {PHONE}로 안내드렸습니다."
    assert messages[1]["content"].startswith("홍길동")  # the caller's list is not modified


def test_pseudonyms_are_stable_across_turns(service: PrivacyService) -> None:
    key = conv()
    first, _ = service.protect("tenant-a", [{"role": "user", "content": "김민수 고객님 번호는 010-2222-3333입니다"}],
                               PLACEHOLDERS, key)
    second, session = service.protect("tenant-a", [
        {"role": "user", "content": "박서준 고객님과 김민수 고객님께 01022223333로 전화해 주세요"}],
        PLACEHOLDERS, key)
    assert first[0]["content"] == "[PERSON_1] 고객님 번호는 [KR_PHONE_1]입니다"
    assert second[0]["content"] == "[PERSON_2] 고객님과 [PERSON_1] 고객님께 [KR_PHONE_1]로 전화해 주세요"
    assert session.restore("[PERSON_2]") == "박서준"


def test_vault_stores_only_ciphertext(service: PrivacyService, db) -> None:
    key = conv()
    service.protect("tenant-v", [{"role": "user", "content": f"연락처 {PHONE}"}], PrivacyPolicy(), key)
    with db.session() as s:
        rows = s.execute(select(PseudonymEntry).where(PseudonymEntry.tenant_id == "tenant-v")).scalars().all()
    assert rows and all(PHONE.encode() not in r.ciphertext and "1234" not in r.value_digest for r in rows)
    assert all(key not in r.conversation for r in rows)


def test_tenants_do_not_share_pseudonyms(service: PrivacyService) -> None:
    key = conv()
    service.protect("tenant-a", [{"role": "user", "content": "이영희 고객님"}], PLACEHOLDERS, key)
    _, other = service.protect("tenant-b", [{"role": "user", "content": "정우성 고객님"}], PLACEHOLDERS, key)
    assert other.restore("[PERSON_1]") == "정우성"


def test_surrogates_are_fake_stable_and_kept_encrypted_in_the_vault(service: PrivacyService, db) -> None:
    key = conv()
    text = "홍길동 고객님 번호는 010-2222-3333입니다. 홍길동 고객님께 연락 주세요."
    first, _ = service.protect("tenant-s", [{"role": "user", "content": text}], PrivacyPolicy(), key)
    sent = first[0]["content"]
    assert "홍길동" not in sent and "[PERSON_" not in sent  # a fake name, not a placeholder
    fake = sent.split(" 고객님")[0]
    assert len(fake) == 3 and sent.count(fake) == 2
    # a later turn reloads the surrogate from the vault: same fake name, restored to the real one
    second, session = service.protect("tenant-s", [{"role": "user", "content": "홍길동 고객님 안녕하세요"}],
                                      PrivacyPolicy(), key)
    assert second[0]["content"] == f"{fake} 고객님 안녕하세요"
    assert service.restore(session, f"{fake}님께 안내드렸습니다.") == "홍길동님께 안내드렸습니다."
    with db.session() as s:
        rows = s.execute(select(PseudonymEntry).where(PseudonymEntry.tenant_id == "tenant-s",
                                                      PseudonymEntry.entity == "PERSON")).scalars().all()
    assert [r.placeholder for r in rows] == [fake] and "홍길동".encode() not in rows[0].ciphertext


def test_surrogate_numbers_in_model_output_are_restored_not_masked(service: PrivacyService) -> None:
    policy = PrivacyPolicy.from_dict({"KR_RRN": {"model_input": "surrogate", "output": "mask"}})
    protected, session = service.protect("tenant-s", [{"role": "user", "content": f"주민번호 {RRN} 확인"}],
                                         policy, conv())
    fake = protected[0]["content"].split()[1]
    assert fake != RRN and fake[6] == "-"
    reply = f"주민등록번호는 {fake}입니다."
    assert service.restore(session, service.scan_output(session, reply, policy)) == f"주민등록번호는 {RRN}입니다."


def test_block_names_types_not_values(service: PrivacyService) -> None:
    policy = PrivacyPolicy.from_dict({"KR_RRN": {"model_input": "block"}})
    with pytest.raises(ApiError) as e:
        service.protect("tenant-a", [{"role": "user", "content": f"주민번호 {RRN}"}], policy, conv())
    assert e.value.status == 422 and "KR_RRN" in e.value.message and RRN not in e.value.message
    assert e.value.code == "pii_blocked"


def test_list_parts_and_tool_call_arguments(service: PrivacyService) -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": f"제 번호는 {PHONE}예요"},
                                     {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "lookup", "arguments": json.dumps({"rrn": RRN, "n": 3}, ensure_ascii=False)}}]},
    ]
    protected, _ = service.protect("tenant-a", messages, PrivacyPolicy(), conv())
    assert protected[0]["content"][0]["text"] == "제 번호는 [KR_PHONE_1]예요"
    assert protected[0]["content"][1] == messages[0]["content"][1]
    assert json.loads(protected[1]["tool_calls"][0]["function"]["arguments"]) == {"rrn": "[KR_RRN_1]", "n": 3}


@pytest.mark.parametrize(("purpose", "expected"), [
    ("storage", "홍길동님 주민번호 901010-1******"),
    ("logs", "<PERSON>님 주민번호 <KR_RRN>"),
])
def test_purposes(service: PrivacyService, purpose: str, expected: str) -> None:
    policy = PrivacyPolicy.from_dict({"PERSON": {"storage": "allow"}})
    out, _ = service.protect("tenant-a", [{"role": "user", "content": "홍길동님 주민번호 901010-1234563"}], policy,
                             conv(), purpose=purpose)
    assert out[0]["content"] == expected


def test_scan_output_handles_pii_the_tenant_did_not_send(service: PrivacyService) -> None:
    policy = PrivacyPolicy.from_dict({"KR_PHONE": {"output": "mask", "model_input": "allow"}})
    _, session = service.protect("tenant-a", [{"role": "user", "content": f"제 번호 {PHONE}로 주세요"}], policy, conv())
    out = service.scan_output(session, f"{PHONE}로 연락드리거나 010-9999-8888로 연락하세요. 주민번호 {RRN}", policy)
    assert out == f"{PHONE}로 연락드리거나 010-****-8888로 연락하세요. 주민번호 900101-1******"


def test_scan_output_block(service: PrivacyService) -> None:
    policy = PrivacyPolicy.from_dict({"CREDIT_CARD": {"output": "block"}})
    _, session = service.protect("tenant-a", [{"role": "user", "content": "안녕하세요"}], policy, conv())
    with pytest.raises(ApiError) as e:
        service.scan_output(session, "카드번호 4111-1111-1111-1111 입니다", policy)
    assert "CREDIT_CARD" in e.value.message and "4111" not in e.value.message


def test_anonymize_operators(service: PrivacyService) -> None:
    text, items = service.anonymize(f"홍길동님 {PHONE}", {"PERSON": {"type": "pseudonymize"},
                                                        "KR_PHONE": {"type": "mask"}})
    assert text == "[PERSON_1]님 010-****-5678"
    assert [i["operator"] for i in items] == ["pseudonymize", "mask"]
