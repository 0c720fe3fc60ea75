"""RemoteBackend: any OpenAI-compatible server (vLLM, llama-server, TGI, Ollama, CLOVA Studio) as a Backend."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

from jaju.engine.base import (
    ChatRequest,
    CompletionRequest,
    Delta,
    EmbeddingResult,
    ModelInfo,
    SamplingParams,
    ToolCall,
    Usage,
)
from jaju.errors import ApiError, ConfigError
from jaju.sovereignty.breaker import CircuitBreaker
from jaju.sovereignty.config import BackendConfig

log = logging.getLogger("jaju.remote")
# Rough bytes per token for Korean/English mixes when the server cannot count for us.
_BYTES_PER_TOKEN = 3.0


class BackendUnavailable(ApiError):
    """The backend did not answer (down, timed out, 5xx, or its circuit is open)."""

    def __init__(self, backend: str, reason: str):
        super().__init__(503, f"Backend {backend} is unavailable: {reason}", "service_unavailable",
                         "backend_unavailable")
        self.backend = backend
        self.reason = reason


def _base_url(url: str) -> str:
    # Like the openai client's base_url; a bare host gets the conventional /v1.
    return url if urlsplit(url).path not in ("", "/") else url.rstrip("/") + "/v1"


def _root_url(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}"


def _sampling(s: SamplingParams) -> dict[str, Any]:
    body: dict[str, Any] = {"temperature": s.temperature, "top_p": s.top_p}
    if s.max_tokens is not None:
        body["max_tokens"] = s.max_tokens
    if s.seed is not None:
        body["seed"] = s.seed
    if s.stop:
        body["stop"] = s.stop
    if s.frequency_penalty:
        body["frequency_penalty"] = s.frequency_penalty
    if s.presence_penalty:
        body["presence_penalty"] = s.presence_penalty
    return body


def _usage(data: dict[str, Any] | None) -> Usage | None:
    if not data:
        return None
    return Usage(int(data.get("prompt_tokens") or 0), int(data.get("completion_tokens") or 0))


class _ToolCallAccumulator:
    """OpenAI streams a tool call as pieces keyed by index; join them into whole ToolCalls."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, pieces: list[dict[str, Any]]) -> None:
        for piece in pieces:
            call = self._calls.setdefault(int(piece.get("index", len(self._calls))),
                                          {"id": "", "name": "", "arguments": ""})
            call["id"] = piece.get("id") or call["id"]
            fn = piece.get("function") or {}
            call["name"] += fn.get("name") or ""
            call["arguments"] += fn.get("arguments") or ""

    def take(self) -> list[ToolCall] | None:
        if not self._calls:
            return None
        calls = [ToolCall(c["id"] or f"call_{i}", c["name"], c["arguments"] or "{}")
                 for i, c in sorted(self._calls.items())]
        self._calls.clear()
        return calls


class RemoteBackend:
    """One OpenAI-compatible server in one jurisdiction, with model-name mapping and a circuit breaker."""

    def __init__(self, config: BackendConfig, jurisdiction: str, *,
                 transport: httpx.AsyncBaseTransport | None = None, breaker: CircuitBreaker | None = None):
        self.name = config.name
        self.jurisdiction = jurisdiction
        self.config = config
        self.breaker = breaker or CircuitBreaker(config.failure_threshold, config.reset_after)
        self.base_url = _base_url(config.url)
        self.root_url = _root_url(config.url)
        headers = {}
        if config.api_key_env:
            key = os.environ.get(config.api_key_env)
            if not key:
                raise ConfigError(f"Backend {config.name} reads its API key from ${config.api_key_env}, which is "
                                  "not set. Export it before starting jaju.")
            headers["Authorization"] = f"Bearer {key}"
        # The transport is the EgressGuard in production: this client can reach declared hosts only.
        self._client = httpx.AsyncClient(transport=transport, headers=headers,
                                         timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout))
        self.tokens_estimated = False  # set once the server could not count tokens and we guessed

    # --- Backend protocol -------------------------------------------------------------------
    def models(self) -> list[ModelInfo]:
        return [ModelInfo(id=name, backend=self.name, jurisdiction=self.jurisdiction, kind=spec.kind,
                          sha256=spec.sha256, license=spec.license, origin=spec.origin or f"remote {self.name}",
                          loaded=True)
                for name, spec in self.config.models.items()]

    def serves(self, model: str) -> bool:
        return model in self.config.models

    def remote_name(self, model: str) -> str:
        spec = self.config.models.get(model)
        if spec is None:
            raise ApiError(404, f"The model '{model}' is not served by backend {self.name}.", code="model_not_found",
                           param="model")
        return spec.remote

    def chat(self, request: ChatRequest) -> AsyncIterator[Delta]:
        body: dict[str, Any] = {"model": self.remote_name(request.model), "messages": request.messages,
                                **_sampling(request.sampling)}
        if request.tools:
            body["tools"] = request.tools
            body["parallel_tool_calls"] = request.parallel_tool_calls
            if request.tool_choice is not None:
                body["tool_choice"] = request.tool_choice
        if request.response_format is not None:
            body["response_format"] = request.response_format
        return self._generate("/chat/completions", body, chat=True)

    def complete(self, request: CompletionRequest) -> AsyncIterator[Delta]:
        body = {"model": self.remote_name(request.model), "prompt": request.prompt, "echo": request.echo,
                **_sampling(request.sampling)}
        return self._generate("/completions", body, chat=False)

    async def embed(self, model: str, inputs: list[str], input_type: str = "query") -> EmbeddingResult:
        data = await self._post_json(self.base_url + "/embeddings", {"model": self.remote_name(model),
                                                                     "input": inputs})
        rows = sorted(data["data"], key=lambda d: d["index"])
        vectors = np.asarray([r["embedding"] for r in rows], dtype=np.float32)
        return EmbeddingResult(vectors, int((data.get("usage") or {}).get("prompt_tokens") or 0))

    async def count_tokens(self, model: str, text: str | None = None,
                           messages: list[dict[str, Any]] | None = None) -> int:
        """Exact through llama-server's /tokenize (and /apply-template); otherwise an estimate, flagged."""
        try:
            if messages is not None:
                applied = await self._post_json(self.root_url + "/apply-template", {"messages": messages},
                                                breaker=False)
                text = applied["prompt"]
            got = await self._post_json(self.root_url + "/tokenize", {"content": text or ""}, breaker=False)
            return len(got["tokens"])
        except ApiError as e:
            if e.status != 404:
                raise
        if not self.tokens_estimated:
            log.warning("backend %s cannot count tokens (no /tokenize); token counts for it are estimates", self.name)
            self.tokens_estimated = True
        if messages is not None:
            text = "\n".join(str(m.get("content") or "") for m in messages)
        return max(1, round(len((text or "").encode("utf-8")) / _BYTES_PER_TOKEN))

    async def healthy(self) -> bool:
        """GET /health (vLLM, llama-server, TGI); servers without it answer GET {base}/models."""
        for url in (self.root_url + "/health", self.base_url + "/models"):
            try:
                r = await self._client.get(url, timeout=self.config.connect_timeout)
            except httpx.HTTPError:
                return False
            if r.status_code == 200:
                return True
            if r.status_code != 404:
                return False
        return False

    async def close(self) -> None:
        await self._client.aclose()

    # --- HTTP -------------------------------------------------------------------------------
    def _admit(self) -> None:
        if not self.breaker.allow():
            raise BackendUnavailable(self.name, "its circuit is open after repeated failures")

    async def _post_json(self, url: str, body: dict[str, Any], *, breaker: bool = True) -> dict[str, Any]:
        if breaker:
            self._admit()
        try:
            r = await self._client.post(url, json=body)
        except httpx.TransportError as e:
            if breaker:
                self.breaker.failure()
            raise BackendUnavailable(self.name, f"{type(e).__name__}") from None
        await self._check(r, breaker)
        if breaker:
            self.breaker.success()
        return r.json()

    async def _check(self, r: httpx.Response, breaker: bool) -> None:
        if r.status_code < 400:
            return
        await r.aread()
        try:
            err = r.json().get("error") or {}
            message = err.get("message") if isinstance(err, dict) else str(err)
        except (ValueError, AttributeError):
            message = r.text[:300]
        if r.status_code >= 500:
            if breaker:
                self.breaker.failure()
            raise BackendUnavailable(self.name, f"HTTP {r.status_code}")
        if breaker:
            self.breaker.success()  # the server is up; the request was wrong
        raise ApiError(r.status_code, f"Backend {self.name}: {message or 'request refused'}",
                       "invalid_request_error" if r.status_code != 429 else "rate_limit_error",
                       "upstream_error")

    async def _generate(self, path: str, body: dict[str, Any], *, chat: bool) -> AsyncIterator[Delta]:
        self._admit()
        verdict = False
        try:
            if not self.config.stream:
                data = await self._post_once(path, body)
                verdict = True
                yield self._whole(data, chat)
                return
            body = {**body, "stream": True, "stream_options": {"include_usage": True}}
            tools = _ToolCallAccumulator()
            finish: str | None = None
            usage: Usage | None = None
            try:
                async with self._client.stream("POST", self.base_url + path, json=body) as r:
                    await self._check(r, breaker=True)
                    async for line in r.aiter_lines():
                        if not line.startswith("data:"):
                            continue
                        payload = line[5:].strip()
                        if payload == "[DONE]":
                            break
                        chunk = json.loads(payload)
                        usage = _usage(chunk.get("usage")) or usage
                        for choice in chunk.get("choices") or []:
                            delta = (choice.get("delta") or {}) if chat else {"content": choice.get("text")}
                            if delta.get("tool_calls"):
                                tools.add(delta["tool_calls"])
                            finish = choice.get("finish_reason") or finish
                            if delta.get("content"):
                                yield Delta(text=delta["content"])
            except httpx.TransportError as e:
                self.breaker.failure()
                verdict = True
                raise BackendUnavailable(self.name, f"{type(e).__name__}") from None
            self.breaker.success()
            verdict = True
            calls = tools.take()
            yield Delta(tool_calls=calls, finish_reason="tool_calls" if calls else (finish or "stop"), usage=usage)
        finally:
            if not verdict:
                self.breaker.release()

    async def _post_once(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            r = await self._client.post(self.base_url + path, json=body)
        except httpx.TransportError as e:
            self.breaker.failure()
            raise BackendUnavailable(self.name, f"{type(e).__name__}") from None
        await self._check(r, breaker=True)
        self.breaker.success()
        return r.json()

    @staticmethod
    def _whole(data: dict[str, Any], chat: bool) -> Delta:
        choice = (data.get("choices") or [{}])[0]
        if not chat:
            return Delta(text=choice.get("text") or "", finish_reason=choice.get("finish_reason") or "stop",
                         usage=_usage(data.get("usage")))
        message = choice.get("message") or {}
        calls = [ToolCall(c.get("id") or f"call_{i}", c["function"]["name"], c["function"].get("arguments") or "{}")
                 for i, c in enumerate(message.get("tool_calls") or [])] or None
        return Delta(text=message.get("content") or "", tool_calls=calls,
                     finish_reason="tool_calls" if calls else (choice.get("finish_reason") or "stop"),
                     usage=_usage(data.get("usage")))
