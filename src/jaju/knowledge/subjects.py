"""Knowledge documents tagged with a data subject, as a provider for export and erasure."""

from __future__ import annotations

from typing import Any

from jaju.knowledge.service import KnowledgeService


class KnowledgeSubjectData:
    """`SubjectDataProvider` over the documents a tenant uploaded with `subject` set."""

    name = "knowledge_documents"

    def __init__(self, knowledge: KnowledgeService):
        self.knowledge = knowledge

    def export(self, tenant_id: str, subject: str) -> dict[str, Any]:
        return {"documents": self.knowledge.subject_documents(tenant_id, subject)}

    def erase(self, tenant_id: str, subject: str) -> int:
        return self.knowledge.erase_subject(tenant_id, subject)
