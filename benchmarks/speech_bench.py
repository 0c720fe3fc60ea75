"""Speech level control: share of answer sentences at the requested level, without and with control.

    python benchmarks/speech_bench.py --limit 102 --tokens 96 --parallel 4 --answers answers.jsonl
    python benchmarks/speech_bench.py --score answers.jsonl     # score what a (cut-short) run wrote

Each finished prompt (both generations) is appended to --answers as it completes, so a run stopped early
can still be scored.

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


async def answer(engine, messages: list[dict], tokens: int) -> list[str]:
    """The answer's deltas as the engine streamed them."""
    req = ChatRequest(model=QWEN.name, messages=messages, sampling=SamplingParams(max_tokens=tokens, temperature=0.0))
    return [d.text async for d in engine.chat(req) if d.text]


async def both(engine, analyzer, item: dict, tokens: int, gate: asyncio.Semaphore, out) -> dict:
    """One prompt without and with the instruction; appended to the answers file when both are done."""
    async with gate:
        user = {"role": "user", "content": item["prompt"]}
        system = {"role": "system", "content": SpeechLevel(analyzer, item["level"]).instruction()}
        plain, told = await asyncio.gather(answer(engine, [user], tokens), answer(engine, [system, user], tokens))
    row = {**item, "none": plain, "instruction": told}
    out.write(json.dumps(row, ensure_ascii=False) + "\n")
    out.flush()
    DONE.append(1)
    print(f"{len(DONE)} prompts", file=sys.stderr, flush=True)
    return row


def score(speech: SpeechLevel, text: str, tally: Counter) -> None:
    for _, level in speech.sentences(text):
        if level is None:
            tally["no_level"] += 1
            continue
        tally["sentences"] += 1
        tally["at_level"] += speech.fits(level)


def report(rows: list[dict], analyzer: KoreanAnalyzer) -> None:
    tallies = {c: {lvl: Counter() for lvl in ("formal", "polite", "casual", "all")}
               for c in ("none", "instruction", "rewrite")}
    rewrite_ms: list[float] = []
    for row in rows:
        speech = SpeechLevel(analyzer, row["level"])
        t0 = time.perf_counter()
        stream = speech.stream()
        fixed = "".join(stream.feed(d) for d in row["instruction"]) + stream.flush()
        rewrite_ms.append((time.perf_counter() - t0) * 1000)
        for cond, text in (("none", "".join(row["none"])), ("instruction", "".join(row["instruction"])),
                           ("rewrite", fixed)):
            score(speech, text, tallies[cond][row["level"]])
            score(speech, text, tallies[cond]["all"])
    print(f"{len(rows)} prompts scored")
    print(f"{'condition':<12} {'level':<7} {'sentences':>9} {'at level':>9} {'share':>7} {'no level':>9}")
    for cond, per in tallies.items():
        for lvl, t in per.items():
            share = t["at_level"] / t["sentences"] if t["sentences"] else 0.0
            print(f"{cond:<12} {lvl:<7} {t['sentences']:>9} {t['at_level']:>9} {share:>7.1%} {t['no_level']:>9}")
    rewrite_ms.sort()
    print(f"stream checker + rewrite per answer: median {rewrite_ms[len(rewrite_ms) // 2]:.1f} ms")


async def main(args) -> None:
    analyzer = KoreanAnalyzer()
    if args.score:
        rows = [json.loads(line) for line in Path(args.score).read_text(encoding="utf-8").splitlines() if line]
        report(rows, analyzer)
        return
    items = [json.loads(line) for line in PROMPTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = items[:args.limit]
    engine = load(args.threads, args.parallel)
    gate = asyncio.Semaphore(max(1, args.parallel // 2))  # two generations per prompt
    start = time.perf_counter()
    with open(args.answers, "a", encoding="utf-8") as out:
        rows = await asyncio.gather(*[both(engine, analyzer, it, args.tokens, gate, out) for it in items])
    print(f"{len(items)} prompts, temperature 0, max_tokens {args.tokens}, {args.parallel} generations at a time, "
          f"{2 * len(items)} generations in {time.perf_counter() - start:.0f} s")
    report(rows, analyzer)
    await engine.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=102)
    p.add_argument("--tokens", type=int, default=96)
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--answers", default="speech_answers.jsonl", help="append each prompt's answers here")
    p.add_argument("--score", help="only score an answers file written by an earlier run")
    asyncio.run(main(p.parse_args()))
