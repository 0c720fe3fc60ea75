"""Load generator for gateway_bench.py, run as its own process so it does not share the gateway's event loop.

Sends non-streaming chat requests (the same 600-character Korean prompt, ending in a tag unique to each
request: see `prompt`; or, with --corpus, 600-character slices of a text file) from `--concurrency` workers, each on its own keep-alive connection, for `--seconds` (after `--warmup` seconds that are not counted),
and prints one JSON line: latencies' p50/p90/p99, requests per second, errors, the first error seen and
the CPU this process spent per request.

Two clients (`--client`). `raw` (the default) writes HTTP/1.1 on asyncio streams under uvloop and reads
each reply by its Content-Length (or chunks), then checks it as `httpx` does here: status 200 and a
non-empty `choices[0].message.content`. `httpx` is `httpx.AsyncClient`, which this harness used until
round 6: on the 2-core box it spent 0.9 ms of CPU per request at c=1 and 2.0 ms at c=16 (against the
bare upstream, 527 req/s with one core saturated), CPU taken from whatever gateway it measured.

    python benchmarks/gateway_load.py --url http://127.0.0.1:8000/v1 --key sk-... --concurrency 16 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpx

# 600 characters of ordinary Korean administrative prose, no personal data: the PII scan runs in full and
# finds nothing, so every gateway forwards the same bytes.
_TEXT = ("다음은 지방자치단체의 디지털 행정 서비스 개선 계획에 관한 내부 검토 자료입니다. 올해 상반기에 접수된 민원 가운데 "
         "온라인으로 처리된 비율은 지난해보다 높아졌지만, 고령층과 장애인의 이용률은 여전히 낮은 편입니다. 특히 복지 급여 "
         "신청과 주민등록 관련 서류 발급은 절차가 복잡하여 창구 방문이 계속 필요하다는 의견이 많았습니다. 이에 따라 담당 "
         "부서는 안내 문구를 쉬운 우리말로 바꾸고, 화면 글자 크기를 키우며, 음성 안내 기능을 추가하는 방안을 검토하고 있습니다. "
         "또한 민원 처리 기간을 줄이기 위해 부서 간 자료 공유 절차를 정비하고, 반복되는 질문에는 자동 응답을 제공하되 "
         "최종 판단은 반드시 공무원이 하도록 하는 원칙을 세웠습니다. 개인정보 보호를 위해 외부 서비스로 전송되는 자료는 "
         "최소화하고, 모든 처리 기록은 감사 목적으로 보관합니다. 위 내용을 바탕으로 주민에게 배포할 안내문의 핵심 내용을 "
         "세 문장으로 요약하고, 추가로 검토해야 할 위험 요소가 있다면 함께 제시해 주십시오. 예산 확보 일정과 시범 운영 "
         "지역 선정 기준도 간단히 정리해 주시기 바랍니다. 마지막으로 주민 설명회에서 나올 수 있는 질문을 미리 생각해 주세요.")
PROMPT = (_TEXT * 2)[:600]


def corpus_prompt(corpus: str, i: int) -> str:
    """600 characters of `corpus` (whitespace-normalised prose) from a position that request `i` picks, ending in
    the same unique tag as `prompt`: text whose wording nobody chose for jaju's recognizers."""
    start = (i * 7919) % max(1, len(corpus) - 600)
    return corpus[start:start + 597] + " " + prompt(i)[-2:]


def load_corpus(path: str) -> str:
    return " ".join(open(path, encoding="utf-8").read().split())


def prompt(i: int) -> str:
    """PROMPT with its last characters replaced by a tag unique to request `i` (a space and two Hangul syllables).

    jaju remembers what it found in texts it analysed lately (a chat resends its history every turn), so the
    same prompt every time would measure that memory instead of the scan. Every gateway gets the same texts.
    """
    a, b = divmod(i % (11172 * 11172), 11172)
    return PROMPT[:-3] + " " + chr(0xAC00 + a) + chr(0xAC00 + b)


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] if s else float("nan")


class RawClient:
    """One keep-alive HTTP/1.1 connection; `post` sends a request and returns (status, body)."""

    def __init__(self, url: str, headers: dict[str, str]):
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname, parts.port or 80, parts.path
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": parts.netloc, **headers}.items()).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        try:
            self.writer.write(b"POST " + (self.path + path).encode() + b" HTTP/1.1\r\n" + self.head
                              + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            head = await self.reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split(b" ", 2)[1])
            fields = {k.strip().lower(): v.strip() for k, v in (x.split(b":", 1) for x in lines[1:] if b":" in x)}
            if b"content-length" in fields:
                data = await self.reader.readexactly(int(fields[b"content-length"]))
            elif fields.get(b"transfer-encoding", b"").lower() == b"chunked":
                data = await self._chunks()
            else:
                raise ValueError("a reply with neither Content-Length nor chunked encoding")
            if fields.get(b"connection", b"").lower() == b"close":
                self.close()
            return status, data
        except BaseException:
            self.close()  # a connection in an unknown state is never reused
            raise

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        out = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return b"".join(out)
            out.append(chunk[:-2])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def run(url: str, key: str, model: str, concurrency: int, seconds: float, warmup: float,
              corpus: str | None = None, client: str = "raw") -> dict:
    # A random start: each phase is a new process, and a counter from 0 would resend the last phase's texts.
    sent = random.randrange(11172 * 11172)

    text = prompt if corpus is None else (lambda i: corpus_prompt(corpus, i))

    def body() -> bytes:
        nonlocal sent
        sent += 1
        return json.dumps({"model": model, "messages": [{"role": "user", "content": text(sent)}], "max_tokens": 64,
                           "temperature": 0}, ensure_ascii=False).encode()

    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors: list[str] = []
    answered = 0  # every answered request, warm-up included (the gateway's CPU is counted over the whole phase)
    start, cpu_start = time.perf_counter(), _cpu()
    counted_from, until = start + warmup, start + warmup + seconds

    async def worker(post: Callable[[bytes], Awaitable[tuple[int, bytes]]], failed: tuple[type[Exception], ...]) -> None:
        nonlocal answered
        while (now := time.perf_counter()) < until:
            try:
                status, data = await post(body())
                reply = json.loads(data) if status == 200 else None
                ok = reply is not None and reply["choices"][0]["message"]["content"]
                problem = None if ok else f"HTTP {status}: {data[:200].decode('utf-8', 'replace')}"
            except (*failed, ValueError, KeyError, IndexError, TypeError) as e:
                problem = f"{type(e).__name__}: {e}"
            done = time.perf_counter()
            answered += 1
            if now < counted_from:
                continue
            if problem:
                errors.append(problem)
            else:
                latencies.append(done - now)

    if client == "raw":
        conns = [RawClient(url, headers) for _ in range(concurrency)]
        await asyncio.gather(*(worker(lambda b, c=c: c.post("/chat/completions", b),
                                      (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError))
                               for c in conns))
        for c in conns:
            c.close()
    else:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:
            async def post(b: bytes) -> tuple[int, bytes]:
                r = await http.post(url + "/chat/completions", content=b, headers=headers)
                return r.status_code, r.content

            await asyncio.gather(*(worker(post, (httpx.HTTPError,)) for _ in range(concurrency)))
    return {"concurrency": concurrency, "client": client, "ok": len(latencies), "errors": len(errors),
            "answered_all": answered, "first_error": errors[0] if errors else None,
            "req_per_s": round(len(latencies) / seconds, 1),
            "p50_ms": round(_pct(latencies, 0.5) * 1000, 3), "p90_ms": round(_pct(latencies, 0.9) * 1000, 3),
            "p99_ms": round(_pct(latencies, 0.99) * 1000, 3),
            "client_cpu_ms_per_req": round(1000 * (_cpu() - cpu_start) / max(1, answered), 3)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="base URL ending in /v1")
    ap.add_argument("--key", default="none")
    ap.add_argument("--model", default="bench")
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--corpus", help="a UTF-8 text file: prompts are 600-character slices of it instead of PROMPT")
    ap.add_argument("--client", choices=("raw", "httpx"), default="raw")
    a = ap.parse_args()
    corpus = load_corpus(a.corpus) if a.corpus else None
    if a.client == "raw":
        import uvloop
        uvloop.install()
    print(json.dumps(asyncio.run(run(a.url, a.key, a.model, a.concurrency, a.seconds, a.warmup, corpus, a.client)),
                     ensure_ascii=False))
