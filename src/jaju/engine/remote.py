"""RemoteBackend: any OpenAI-compatible server (vLLM, llama-server, TGI, Ollama, CLOVA Studio) as a Backend."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import numpy as np

from jaju.engine import responses_upstream
from jaju.engine.base import (
    ChatRequest,
    CompletionRequest,
    Delta,
    EmbeddingResult,
    ModelInfo,
    SamplingParams,
)
from jaju.engine.openai_reply import InvalidReply, SilentBackend, SseReader, parse_body
from jaju.errors import ApiError, ConfigError, ServiceError, Unavailable
from jaju.sovereignty.breaker import CircuitBreaker
from jaju.sovereignty.config import BackendConfig
from jaju.sovereignty.transport import Http1Transport

log = logging.getLogger("jaju.remote")
# Rough bytes per token for Korean/English mixes when the server cannot count for us.
_BYTES_PER_TOKEN = 3.0


class ReplyReader(Protocol):
    """Reads a streamed reply line by line into Deltas (chat/completion chunks, or Responses events)."""

    def feed(self, line: str) -> Delta | None: ...

    def close(self) -> Delta: ...


class BackendUnavailable(Unavailable):
    """The backend did not answer (down, could not connect, 5xx, or its circuit is open)."""

    def __init__(self, backend: str, reason: str):
        super().__init__(f"Backend {backend} is unavailable: {reason}", "backend_unavailable")
        self.backend = backend
        self.reason = reason


def _base_url(url: str) -> str:
    # Like the openai client's base_url; a bare host gets the conventional /v1.
    return url if urlsplit(url).path not in ("", "/") else url.rstrip("/") + "/v1"


def _root_url(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}"


def _sampling(s: SamplingParams, chat: bool = True) -> dict[str, Any]:
    """OpenAI's fields, plus vLLM's sampling extensions; a field left to the model's default is left out."""
    body: dict[str, Any] = {name: value for name in ("temperature", "top_p", "top_k", "min_p", "repetition_penalty")
                            if (value := getattr(s, name)) is not None}
    if s.n > 1:
        body["n"] = s.n
    if s.logprobs and chat:
        body["logprobs"] = True
        if s.top_logprobs:
            body["top_logprobs"] = s.top_logprobs
    elif s.logprobs:
        body["logprobs"] = s.top_logprobs
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


class _NoCookies(DefaultCookiePolicy):
    """Keep no cookie and send none."""

    def set_ok(self, cookie, request) -> bool:
        return False

    def return_ok(self, cookie, request) -> bool:
        return False


_REFUSE_COOKIES = _NoCookies()


class RemoteBackend:
    """One OpenAI-compatible server in one jurisdiction, with model-name mapping and a circuit breaker."""

    def __init__(self, config: BackendConfig, jurisdiction: str, *,
                 transport: httpx.AsyncBaseTransport | None = None, breaker: CircuitBreaker | None = None,
                 salt: Callable[[str], str] | None = None):
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
        # The transport is the EgressGuard in production (this client can reach declared hosts only), over
        # jaju's lean HTTP/1.1 transport either way.
        # A cookie jar that takes nothing: this one client carries every tenant's requests, so a cookie one
        # reply set would ride along on the next tenant's request.
        self._client = httpx.AsyncClient(transport=transport or Http1Transport(), headers=headers,
                                         cookies=CookieJar(policy=_REFUSE_COOKIES),
                                         timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout))
        if config.cache_salt and salt is None:
            raise ConfigError(f"Backend {config.name} asks for cache_salt, but no salt function was given.")
        self._salt = salt if config.cache_salt else None  # tenant (cache scope) -> the server's cache_salt
        self.tokens_estimated = False  # set once the server could not count tokens and we guessed
        # Whether the server serves /v1/responses itself; None until an "auto" backend has been asked.
        self._native_responses: bool | None = {"native": True, "translate": False}.get(config.responses)

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
        self._salted(body, request.cache_scope)
        # Several choices come back whole (one JSON reply), so each keeps its index and logprobs.
        return self._openai("/chat/completions", body, chat=True, stream=request.stream and request.sampling.n == 1)

    def complete(self, request: CompletionRequest) -> AsyncIterator[Delta]:
        body = {"model": self.remote_name(request.model), "prompt": request.prompt, "echo": request.echo,
                **_sampling(request.sampling, chat=False)}
        self._salted(body, request.cache_scope)
        return self._openai("/completions", body, chat=False, stream=request.stream and request.sampling.n == 1)

    def respond(self, request: ChatRequest) -> AsyncIterator[Delta]:
        """The prepared request sent to the server's own /v1/responses; its reply read into Deltas."""
        body = responses_upstream.request_body(request, self.remote_name(request.model))
        self._salted(body, request.cache_scope)
        return self._generate("/responses", body, {}, lambda: responses_upstream.EventReader(self.name),
                              lambda raw, kind: responses_upstream.parse_body(raw, kind, self.name),
                              stream=request.stream)

    def _salted(self, body: dict[str, Any], scope: str) -> None:
        """With `cache_salt` on, the tenant's salt: the server reuses a cached prefix only within one tenant."""
        if self._salt is not None and scope:
            body["cache_salt"] = self._salt(scope)

    async def speaks_responses(self) -> bool:
        """Whether /v1/responses goes to this server natively (config `responses`; "auto" asks once).

        "auto" sends an empty POST {base}/responses: a server that has the route refuses the body (400 or
        422), one that has not answers 404, 405 or 501. Nothing else is remembered: a server that is down
        now is asked again next time, and this request is translated to chat meanwhile.
        """
        if self._native_responses is None:
            try:
                r = await self._client.post(self.base_url + "/responses", json={})
            except httpx.HTTPError:
                return False
            if r.status_code in (400, 422):
                self._native_responses = True
            elif r.status_code in (404, 405, 501) or r.status_code < 300:
                self._native_responses = False
            else:
                return False
            log.info("backend %s %s the Responses API natively", self.name,
                     "serves" if self._native_responses else "does not serve")
        return self._native_responses

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

    async def post_json(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON body to this backend (through its egress guard, key and circuit breaker)."""
        return await self._post_json(url, body)

    async def _post_json(self, url: str, body: dict[str, Any], *, breaker: bool = True) -> dict[str, Any]:
        if breaker:
            self._admit()
        try:
            try:
                r = await self._client.post(url, json=body)
            except httpx.TransportError as e:
                raise self._broken(e, started=False) from None
            await self._check(r)
            data = r.json()
        except ServiceError as e:
            if breaker:
                self._judge(e)
            raise
        except ValueError:
            e = InvalidReply(self.name, "a body that is not valid JSON", r.content)
            if breaker:
                self._judge(e)
            raise e from None
        if breaker:
            self.breaker.success()
        return data

    def _judge(self, e: ServiceError) -> None:
        """The breaker's verdict on a failed call: the server's fault (5xx, garbage, silence) or the request's."""
        if e.status >= 500:
            self.breaker.failure()
            log.warning("backend %s failed: %s", self.name, e.code)
        else:
            self.breaker.success()  # the server is up; the request was wrong

    async def _check(self, r: httpx.Response) -> None:
        if r.status_code < 400:
            return
        await r.aread()
        try:
            err = r.json().get("error") or {}
            message = err.get("message") if isinstance(err, dict) else str(err)
        except (ValueError, AttributeError):
            message = r.text[:300]
        if r.status_code >= 500:
            raise BackendUnavailable(self.name, f"HTTP {r.status_code}")
        raise ApiError(r.status_code, f"Backend {self.name}: {message or 'request refused'}",
                       "invalid_request_error" if r.status_code != 429 else "rate_limit_error",
                       "upstream_error")

    def _openai(self, path: str, body: dict[str, Any], *, chat: bool, stream: bool) -> AsyncIterator[Delta]:
        """A chat or text completion: chunks with usage when streamed, either reply shape read."""
        return self._generate(path, body, {"stream_options": {"include_usage": True}},
                              lambda: SseReader(self.name, chat),
                              lambda raw, kind: parse_body(raw, kind, chat, self.name), stream=stream)

    async def _generate(self, path: str, body: dict[str, Any], stream_fields: dict[str, Any],
                        reader: Callable[[], ReplyReader], parse: Callable[[bytes, str], list[Delta]], *,
                        stream: bool = True) -> AsyncIterator[Delta]:
        """Deltas from the server, or a ServiceError: 503 unreachable, 502 a reply that is not OpenAI's, 504 silent.

        Every outcome gives the breaker a verdict: a server that speaks garbage or hangs is as broken as one
        that is down. A caller that stops early gives none (the half-open probe is released).
        """
        self._admit()
        verdict = False
        try:
            if not (self.config.stream and stream):
                deltas = await self._post_once(path, body, parse)
                self.breaker.success()
                verdict = True
                for d in deltas:
                    yield d
                return
            body = {**body, "stream": True, **stream_fields}
            try:
                async with self._client.stream("POST", self.base_url + path, json=body) as r:
                    await self._check(r)
                    kind = r.headers.get("content-type", "")
                    if "event-stream" not in kind:  # a server that ignored `stream`: read whatever it sent
                        deltas = parse(await r.aread(), kind)
                    else:
                        lines = reader()
                        try:
                            async for line in r.aiter_lines():
                                delta = lines.feed(line)
                                if delta is not None:
                                    yield delta
                        except httpx.TransportError as e:
                            raise self._broken(e, started=True) from None
                        deltas = [lines.close()]
            except httpx.TransportError as e:
                raise self._broken(e, started=False) from None
            self.breaker.success()
            verdict = True
            for d in deltas:
                yield d
        except ServiceError as e:
            if not verdict:
                self._judge(e)
                verdict = True
            raise
        finally:
            if not verdict:
                self.breaker.release()

    def _broken(self, e: httpx.TransportError, *, started: bool) -> ServiceError:
        """The error for a transport failure: silent too long, cut off mid-reply, or not reachable at all."""
        if isinstance(e, httpx.ReadTimeout):
            return SilentBackend(self.name, self.config.timeout)
        if started:
            return InvalidReply(self.name, f"the connection broke before the reply was complete ({type(e).__name__})")
        return BackendUnavailable(self.name, type(e).__name__)

    async def _post_once(self, path: str, body: dict[str, Any],
                         parse: Callable[[bytes, str], list[Delta]]) -> list[Delta]:
        try:
            r = await self._client.post(self.base_url + path, json=body)
        except httpx.TransportError as e:
            raise self._broken(e, started=False) from None
        await self._check(r)
        return parse(r.content, r.headers.get("content-type", ""))
