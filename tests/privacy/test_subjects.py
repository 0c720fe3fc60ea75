"""Data-subject export and erasure: vault rows, key destruction, audit without personal data."""

from __future__ import annotations

import json
import uuid

from jaju.audit.events import Event
from jaju.privacy.policy import PrivacyPolicy
from jaju.privacy.service import PrivacyService
from jaju.privacy.subjects import SubjectService


class ListAudit:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def append(self, event: Event) -> None:
        self.events.append(event)


class KeptMessages:
    """A second provider, as the lead's stored chat messages will be."""

    name = "messages"

    def __init__(self) -> None:
        self.rows = {("t", "customer-42"): ["홍길동입니다"]}

    def export(self, tenant_id: str, subject: str) -> dict:
        return {"messages": self.rows.get((tenant_id, subject), [])}

    def erase(self, tenant_id: str, subject: str) -> int:
        return len(self.rows.pop((tenant_id, subject), []))


def test_export_then_erase(service: PrivacyService, keys) -> None:
    subject = "customer-42"
    conv = f"c-{uuid.uuid4()}"
    service.protect("t", [{"role": "user", "content": "홍길동입니다. 010-1234-5678로 연락 주세요"}], PrivacyPolicy(),
                    conv, subject=subject)
    service.protect("t", [{"role": "user", "content": "이영희 고객님"}], PrivacyPolicy(), f"c-{uuid.uuid4()}",
                    subject="someone-else")
    audit = ListAudit()
    subjects = SubjectService([service.vault, KeptMessages()], keys, audit, service.vault.subject_digest)

    exported = subjects.export("t", subject)
    values = {p["value"] for p in exported["data"]["privacy_vault"]["pseudonyms"]}
    assert values == {"홍길동", "010-1234-5678"}
    assert exported["data"]["messages"] == {"messages": ["홍길동입니다"]}

    erased = subjects.erase("t", subject)
    assert erased["deleted"] == {"privacy_vault": 2, "messages": 1} and erased["key_destroyed"]
    assert ("t", subject) in keys.destroyed
    assert subjects.export("t", subject)["data"]["privacy_vault"] == {"pseudonyms": []}
    # The other subject is untouched.
    assert subjects.export("t", "someone-else")["data"]["privacy_vault"]["pseudonyms"]

    recorded = json.dumps([e.to_record() for e in audit.events], ensure_ascii=False, default=str)
    assert [e.action for e in audit.events][:2] == ["privacy.subject.export", "privacy.subject.erase"]
    for secret in (subject, "홍길동", "010-1234-5678", "1234"):
        assert secret not in recorded
