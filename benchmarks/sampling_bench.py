"""Broken syllables and loops in the embedded engine's Korean answers, with and without the fixes.

    python benchmarks/sampling_bench.py utf8 --answers 200    # U+FFFD rate, UTF-8 guard off vs on
    python benchmarks/sampling_bench.py loops --answers 100   # loop rate at temperature 0, per setting

Runs LlamaEngine directly (no HTTP) on the default model; answers run `--parallel` at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks are scripts; share the prompt list

from benchmarks.korean_prompts import prompts  # noqa: E402

from jaju.engine.base import ChatRequest, ModelInfo, SamplingParams  # noqa: E402
from jaju.engine.catalog import QWEN, assemble  # noqa: E402
from jaju.engine.llama import LlamaEngine  # noqa: E402
from jaju.settings import EngineSettings  # noqa: E402


def load(threads: int, parallel: int) -> LlamaEngine:
    gguf = assemble(QWEN, Path.home() / ".cache" / "jaju-test")
    info = ModelInfo(id=QWEN.name, backend="embedded", jurisdiction="KR", kind="chat", sha256=QWEN.sha256)
    engine = LlamaEngine(info, gguf, EngineSettings(threads=threads, parallel=parallel, kv_cache_tokens=8192,
                                                    context_size=1024))
    engine.load()
    return engine


def looped(text: str, min_chars: int = 60) -> bool:
    """True when the reply ends in a span repeated back to back (at least 3 times, or 60 characters)."""
    for period in range(1, 121):
        span = max(3 * period, min_chars)
        if len(text) < span:
            break
        tail = text[-span:]
        if all(tail[i] == tail[i - period] for i in range(period, span)):
            return True
    return False


async def answer(engine: LlamaEngine, prompt: str, sampling: SamplingParams, gate: asyncio.Semaphore) -> dict:
    async with gate:
        text, reason, tokens = "", None, 0
        req = ChatRequest(model=QWEN.name, messages=[{"role": "user", "content": prompt}], sampling=sampling)
        async for d in engine.chat(req):
            text += d.text
            if d.finish_reason:
                reason, tokens = d.finish_reason, d.usage.completion_tokens
        return {"text": text, "reason": reason, "tokens": tokens}


async def run(engine: LlamaEngine, items: list[tuple[str, SamplingParams]], parallel: int) -> tuple[list[dict], float]:
    gate = asyncio.Semaphore(parallel)
    start = time.perf_counter()
    results = await asyncio.gather(*[answer(engine, p, s, gate) for p, s in items])
    return results, time.perf_counter() - start


def utf8(engine: LlamaEngine, args) -> None:
    """With the guard on, an answer the guard had to correct is one that showed U+FFFD without it: up to
    the refused token both runs are the same draw from the same seed. --compare also runs with it off."""
    asks = prompts(args.answers)
    print(f"{len(asks)} Korean answers, temperature {args.temperature}, top_p 1, top_k off, max_tokens "
          f"{args.tokens}, seeds 0..{len(asks) - 1}, {args.parallel} at a time")
    seqs: list = []
    submit = engine.scheduler.submit
    engine.scheduler.submit = lambda *s: (seqs.extend(s), submit(*s))[1]  # see each answer's corrections
    for guard in ((False, True) if args.compare else (True,)):
        engine.scheduler.utf8_guard = guard
        seqs.clear()
        items = [(p, SamplingParams(max_tokens=args.tokens, temperature=args.temperature, top_p=1.0, top_k=0,
                                    seed=i)) for i, p in enumerate(asks)]
        results, wall = asyncio.run(run(engine, items, args.parallel))
        broken = [(i, r["text"]) for i, r in enumerate(results) if "\ufffd" in r["text"]]
        tokens = sum(r["tokens"] for r in results)
        fixed = sorted(s.sampling.seed for s in seqs if s.utf8_fixes)
        print(f"guard {'on ' if guard else 'off'}: {len(broken)}/{len(results)} answers with U+FFFD "
              f"({100 * len(broken) / len(results):.1f}%), {tokens} tokens in {wall:.1f} s = {tokens / wall:.1f} tok/s "
              f"aggregate; the guard corrected {sum(s.utf8_fixes for s in seqs)} tokens in {len(fixed)} answers "
              f"({100 * len(fixed) / len(results):.1f}%; seeds {fixed})")
        for i, text in broken[:3]:
            at = text.index("\ufffd")
            print(f"   e.g. seed {i}:", repr(text[max(0, at - 12):at + 12]))


SETTINGS = {
    "off": {"repetition_penalty": 1.0, "dry_multiplier": 0.0},
    "model default": {},
    "dry 0.8": {"repetition_penalty": 1.0, "dry_multiplier": 0.8},
}


def loops(engine: LlamaEngine, args) -> None:
    asks = prompts(args.answers)
    print(f"{len(asks)} Korean prompts, temperature 0, max_tokens {args.tokens}, {args.parallel} at a time; "
          f"model defaults {engine.sampling_defaults}")
    for name in args.settings:
        items = [(p, SamplingParams(max_tokens=args.tokens, temperature=0, **SETTINGS[name])) for p in asks]
        results, wall = asyncio.run(run(engine, items, args.parallel))
        loops_ = [r["text"] for r in results if r["reason"] == "length" and looped(r["text"])]
        tokens = sum(r["tokens"] for r in results)
        print(f"{name:>13}: {len(loops_)}/{len(results)} replies loop to max_tokens ({100 * len(loops_) / len(results):.0f}%), "
              f"{sum(r['reason'] == 'length' for r in results)} hit max_tokens, {tokens / wall:.1f} tok/s aggregate")
        for text in loops_[:2]:
            print("   e.g.", repr(text[-80:]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["utf8", "loops"])
    ap.add_argument("--answers", type=int, default=200)
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--compare", action="store_true", help="utf8: also run with the guard off")
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    args = ap.parse_args()
    engine = load(args.threads, args.parallel)
    try:
        utf8(engine, args) if args.mode == "utf8" else loops(engine, args)
    finally:
        asyncio.run(engine.close())


if __name__ == "__main__":
    main()
