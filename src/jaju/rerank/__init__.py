"""Reranking: score documents against a query (/v1/rerank and the knowledge-base rerank hook)."""
