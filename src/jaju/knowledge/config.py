"""The `[knowledge]` settings section, validated here because this package owns it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from jaju.errors import ConfigError


class KnowledgeSettings(BaseModel):
    """Chunking, retrieval and upload limits for knowledge bases."""

    model_config = ConfigDict(extra="forbid")

    # 120/24 won on tests/data/kb_eval.jsonl against 200/40 (hybrid R@1 0.811 vs 0.775); see docs/benchmarks.md.
    chunk_tokens: int = Field(120, ge=32, le=480)  # e5 reads at most 512 tokens, context included
    overlap_tokens: int = Field(24, ge=0, le=240)
    # Chunks follow 조/항/호 and list structure where the text has it (see jaju.knowledge.structure);
    # numbered blocks are packed up to block_tokens. Chosen on tests/data/kb_eval.jsonl only (hybrid R@1:
    # blocks 200 with 120/24 windows 0.828, everything 200 0.822, 120 0.805, 80 0.775); docs/benchmarks.md.
    structure: bool = True
    block_tokens: int = Field(200, ge=32, le=480)
    top_k: int = Field(5, ge=1, le=100)
    candidates: int = Field(50, ge=1, le=1000)  # depth of each list fused by RRF
    rerank_candidates: int = Field(20, ge=1, le=200)  # fused hits a reranker (when one is wired) reorders
    max_file_bytes: int = Field(50 * 1024 * 1024, ge=1024)
    max_files_per_upload: int = Field(32, ge=1, le=1000)

    @model_validator(mode="after")
    def _overlap_fits(self) -> KnowledgeSettings:
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError("overlap_tokens must be smaller than chunk_tokens")
        return self

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> KnowledgeSettings:
        """Validate `settings.knowledge`, or raise ConfigError saying which key to fix."""
        try:
            return cls(**section)
        except ValidationError as e:
            lines = []
            for err in e.errors():
                key = ".".join(str(p) for p in err["loc"])
                env = f" or JAJU_KNOWLEDGE__{key.upper()}" if key else ""
                lines.append(f"- knowledge{'.' + key if key else ''}: {err['msg']}. "
                             f"Fix `[knowledge]` in jaju.toml{env}.")
            raise ConfigError("Invalid knowledge settings:\n" + "\n".join(lines)) from None
