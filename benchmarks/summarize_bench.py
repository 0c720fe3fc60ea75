"""Summarising documents longer than the model's context: POST /v1/korean/summarize through the in-process app.

For each document (konlpy 0.6.0's corpora, public domain: the "제안이유" sections of the ten kobill bills
one after another, and the Constitution of the Republic of Korea), the real default model summarises it by
map-reduce at temperature 0. Reported per run: characters and tokens of the document, chunks, model calls,
reduce levels, wall time, prompt and completion tokens, and the summary's length. Also
/v1/korean/segment on the same documents (time and paragraphs), for the segmentation section.

    python benchmarks/summarize_bench.py [--context 4096] [--max-tokens 128] [--docs bills constitution]
        [--corpus DIR]   # konlpy's data/corpus (default: the installed konlpy's)
        [--file PATH]    # summarise this UTF-8 file instead
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks are scripts; reuse the test helpers for the model file

import httpx  # noqa: E402

from jaju.app import create_app  # noqa: E402
from jaju.cli.serve import bootstrap  # noqa: E402
from jaju.engine.catalog import QWEN, assemble  # noqa: E402
from jaju.services import build_services  # noqa: E402
from tests.support import close_services, link_models, make_settings  # noqa: E402


CORPUS: list[Path] = []


def corpus() -> Path:
    if CORPUS:
        return CORPUS[0]
    import konlpy

    return Path(os.path.dirname(konlpy.__file__)) / "data" / "corpus"


def bills() -> str:
    parts, seen = [], set()
    for path in sorted((corpus() / "kobill").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        start = text.find("제안이유")
        section = text[start:text.find("- 1 -", start)].strip()
        if section not in seen:  # two bills share their text
            seen.add(section)
            parts.append(section)
    return "\n\n".join(parts)


def constitution() -> str:
    return (corpus() / "kolaw" / "constitution.txt").read_text(encoding="utf-8").strip()


DOCS = {"bills": bills, "constitution": constitution}


async def run(args) -> None:
    gguf = assemble(QWEN, Path.home() / ".cache" / "jaju-test")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        link_models(data_dir, gguf)
        services = build_services(make_settings(
            data_dir, engine={"threads": args.threads, "parallel": 4, "kv_cache_tokens": 4 * args.context,
                              "context_size": args.context},
            limits={"max_body_bytes": 1024 * 1024, "requests_per_minute": 0}))
        services.admin_secret = bootstrap(services)
        services.load_models()
        app = create_app(services=services, load_models=False)
        headers = {"Authorization": f"Bearer {services.admin_secret}"}
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jaju.test",
                                         timeout=3600) as client:
                print(f"context {args.context} tokens, max_tokens {args.max_tokens}, {args.threads} threads")
                docs = [(args.file.name, args.file.read_text(encoding="utf-8"))] if args.file else \
                    [(name, DOCS[name]()) for name in args.docs]
                for name, text in docs:
                    await summarize(client, headers, name, text, args)
                    if not args.no_segment:
                        await segment(client, headers, name, text)
        finally:
            close_services(services)


async def summarize(client, headers, name: str, text: str, args) -> None:
    started = time.perf_counter()
    r = await client.post("/v1/korean/summarize", headers=headers,
                          json={"input": text, "max_tokens": args.max_tokens, "temperature": 0})
    took = time.perf_counter() - started
    if r.status_code != 200:
        print(f"{name}: HTTP {r.status_code} {r.text[:300]}")
        return
    body = r.json()
    ext, usage, summary = body["jaju"], body["usage"], body["summary"]
    print(f"\nsummarize {name}: {len(text):,} chars, {ext['document_tokens']:,} tokens ({ext['token_count']}); "
          f"{ext['chunks']} chunks, {ext['model_calls']} model calls, {ext['reduce_levels']} reduce level(s); "
          f"{took:.1f} s; prompt {usage['prompt_tokens']:,} + completion {usage['completion_tokens']:,} tokens; "
          f"summary {len(summary)} chars ({len(summary) / len(text):.1%} of the input), "
          f"finish {body['finish_reason']}")
    print("  summary:", re.sub(r"\s+", " ", summary)[:400])


async def segment(client, headers, name: str, text: str) -> None:
    flat = re.sub(r"\s+", " ", text)  # the breaks removed, as segment_bench does
    started = time.perf_counter()
    r = await client.post("/v1/korean/segment", headers=headers, json={"input": flat})
    took = time.perf_counter() - started
    if r.status_code != 200:
        print(f"segment {name}: HTTP {r.status_code} {r.text[:300]}")
        return
    body = r.json()
    print(f"segment {name}: {len(flat):,} chars, {body['jaju']['sentences']} sentences -> "
          f"{len(body['paragraphs'])} paragraphs in {took:.1f} s ({body['usage']['prompt_tokens']:,} e5 tokens)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--context", type=int, default=4096)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--docs", nargs="+", default=list(DOCS), choices=list(DOCS))
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--no-segment", action="store_true")
    arguments = parser.parse_args()
    if arguments.corpus:
        CORPUS.append(arguments.corpus)
    asyncio.run(run(arguments))
