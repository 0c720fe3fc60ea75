"""Speech level control: share of answer sentences at the requested level, without and with control.

    python benchmarks/speech_bench.py --limit 102 --tokens 96 --parallel 4

Runs LlamaEngine directly on the default model at temperature 0 over tests/data/speech_prompts_ko.jsonl
(each prompt names a level: formal, polite or casual). Three conditions, two generations per prompt:
  none         the prompt alone
  instruction  SpeechLevel.instruction() as the system message
  rewrite      the instruction answer streamed through SpeechStream (rule rewrite of slipped sentences)
Only sentences with a final ending are counted (list items and headings have no level).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sampling_bench import load  # noqa: E402

from jaju.engine.base import ChatRequest, SamplingParams  # noqa: E402
from jaju.engine.catalog import QWEN  # noqa: E402
from jaju.korean import KoreanAnalyzer  # noqa: E402
from jaju.korean.speech import SpeechLevel  # noqa: E402

DONE: list[int] = []
PROMPTS = ROOT / "tests" / "data" / "speech_prompts_ko.jsonl"


async def answer(engine, messages: list[dict], tokens: int, gate: asyncio.Semaphore) -> list[str]:
    """The answer's deltas as the engine streamed them."""
    async with gate:
        req = ChatRequest(model=QWEN.name, messages=messages,
                          sampling=SamplingParams(max_tokens=tokens, temperature=0.0))
        deltas = [d.text async for d in engine.chat(req) if d.text]
    DONE.append(1)
    print(f"{len(DONE)} answers", file=sys.stderr, flush=True)
    return deltas


def score(speech: SpeechLevel, text: str, tally: Counter) -> None:
    for _, level in speech.sentences(text):
        if level is None:
            tally["no_level"] += 1
            continue
        tally["sentences"] += 1
        tally["at_level"] += speech.fits(level)


async def main(args) -> None:
    items = [json.loads(line) for line in PROMPTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = items[:args.limit]
    analyzer = KoreanAnalyzer()
    engine = load(args.threads, args.parallel)
    gate = asyncio.Semaphore(args.parallel)
    start = time.perf_counter()
    plain = [answer(engine, [{"role": "user", "content": it["prompt"]}], args.tokens, gate) for it in items]
    told = [answer(engine, [{"role": "system", "content": SpeechLevel(analyzer, it["level"]).instruction()},
                            {"role": "user", "content": it["prompt"]}], args.tokens, gate) for it in items]
    results = await asyncio.gather(*plain, *told)
    elapsed = time.perf_counter() - start
    tallies = {c: {lvl: Counter() for lvl in ("formal", "polite", "casual", "all")}
               for c in ("none", "instruction", "rewrite")}
    rewrite_ms: list[float] = []
    for i, it in enumerate(items):
        speech = SpeechLevel(analyzer, it["level"])
        deltas_plain, deltas_told = results[i], results[len(items) + i]
        t0 = time.perf_counter()
        stream = speech.stream()
        fixed = "".join(stream.feed(d) for d in deltas_told) + stream.flush()
        rewrite_ms.append((time.perf_counter() - t0) * 1000)
        for cond, text in (("none", "".join(deltas_plain)), ("instruction", "".join(deltas_told)),
                           ("rewrite", fixed)):
            score(speech, text, tallies[cond][it["level"]])
            score(speech, text, tallies[cond]["all"])
    print(f"{len(items)} prompts, temperature 0, max_tokens {args.tokens}, {args.parallel} at a time, "
          f"{2 * len(items)} generations in {elapsed:.0f} s")
    print(f"{'condition':<12} {'level':<7} {'sentences':>9} {'at level':>9} {'share':>7} {'no level':>9}")
    for cond, per in tallies.items():
        for lvl, t in per.items():
            share = t["at_level"] / t["sentences"] if t["sentences"] else 0.0
            print(f"{cond:<12} {lvl:<7} {t['sentences']:>9} {t['at_level']:>9} {share:>7.1%} {t['no_level']:>9}")
    rewrite_ms.sort()
    print(f"stream checker + rewrite per answer: median {rewrite_ms[len(rewrite_ms) // 2]:.1f} ms")
    if args.samples:
        for i, it in enumerate(items[:args.samples]):
            print(json.dumps({"level": it["level"], "prompt": it["prompt"],
                              "instruction": "".join(results[len(items) + i])}, ensure_ascii=False))
    await engine.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=102)
    p.add_argument("--tokens", type=int, default=96)
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--samples", type=int, default=0, help="print this many instructed answers")
    asyncio.run(main(p.parse_args()))
