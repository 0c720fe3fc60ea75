"""Knowledge documents tagged with a data subject, as a provider for export and erasure."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from jaju.knowledge.service import KnowledgeService
from jaju.knowledge.tables import KnowledgeDocument


class KnowledgeSubjectData:
    """`SubjectDataProvider` over the documents a tenant uploaded with `subject` set."""

    name = "knowledge_documents"

    def __init__(self, knowledge: KnowledgeService):
        self.knowledge = knowledge

    def export(self, tenant_id: str, subject: str) -> dict[str, Any]:
        with self.knowledge.db.for_tenant(tenant_id).sessions() as s:
            docs = s.scalars(select(KnowledgeDocument).where(KnowledgeDocument.tenant_id == tenant_id,
                                                             KnowledgeDocument.subject == subject)).all()
            return {"documents": [self.knowledge.doc_dict(d) for d in docs]}

    def erase(self, tenant_id: str, subject: str) -> int:
        return self.knowledge.erase_subject(tenant_id, subject)
