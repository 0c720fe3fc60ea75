"""Generation scoring for remote engines: ask an OpenAI-compatible server for one letter, read it back.

Remote servers rarely return prompt log-probabilities, so the answer is the first choice label the reply
names (temperature 0, a few tokens). A reply that names no label counts as wrong.
"""

from __future__ import annotations

import re

import httpx

from jaju.errors import JajuError
from jaju.evaluation.dataset import Question

INSTRUCTION = "다음 객관식 문제의 정답을 보기의 알파벳 하나로만 답하세요."


class GenerationScorer:
    method = "generation"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 120.0):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        self.model = model

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> GenerationScorer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def predict(self, q: Question) -> tuple[int, list[float]]:
        labels = [c.strip().strip("()") for c in q.continuations]
        body = {"model": self.model, "temperature": 0, "max_tokens": 8,
                "messages": [{"role": "system", "content": INSTRUCTION}, {"role": "user", "content": q.prompt}]}
        try:
            r = self._client.post("/chat/completions", json=body)
        except httpx.HTTPError as e:
            raise JajuError(f"{self._client.base_url} did not answer: {e}.") from None
        if r.status_code != 200:
            raise JajuError(f"{self._client.base_url} answered {r.status_code}: {r.text[:200]}")
        text = (r.json()["choices"][0]["message"].get("content") or "").upper()
        m = re.search(rf"\b([{''.join(labels)}])\b", text) or re.search(rf"([{''.join(labels)}])", text)
        picked = labels.index(m.group(1)) if m else -1
        return picked, [1.0 if i == picked else 0.0 for i in range(len(labels))]
