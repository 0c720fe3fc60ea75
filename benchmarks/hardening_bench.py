"""What the edge's Unicode check costs per request: validating chat bodies with and without the string bound.

The bound (`protocol/common.py: MAX_STRING_CHARS`) makes pydantic-core read every string as UTF-8, which
is how a lone surrogate is refused without Python code. This measures that read against plain
validation, on Korean chat bodies of three sizes, after the JSON is parsed (as FastAPI does it); and
with the UTF-8 encoding the tokenizer does next, which reuses what validation already produced (CPython
keeps a string's UTF-8 form once made, and validation passes the same string object on).

    python benchmarks/hardening_bench.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from pydantic import ConfigDict

from jaju.protocol.chat import ChatCompletionRequest, Message, TextPart
from jaju.protocol.common import JajuRequestExtension, StreamOptions

SENTENCE = "자주시 청년 월세 지원은 한 달에 최대 20만 원이며, 신청은 주민센터에서 받습니다. "


def unbounded_models() -> type[ChatCompletionRequest]:
    """The same request model without the string bound: the cost before the fix."""
    plain = ConfigDict(extra="ignore", str_max_length=None)
    for cls in (TextPart, Message, StreamOptions, JajuRequestExtension):
        cls.model_config = {**cls.model_config, **plain}
        cls.model_rebuild(force=True)

    class Plain(ChatCompletionRequest):
        model_config = {**ChatCompletionRequest.model_config, **plain}

    Plain.model_rebuild(force=True)
    return Plain


def body(chars: int) -> dict:
    turns = max(1, chars // 2000)
    per = SENTENCE * max(1, chars // turns // len(SENTENCE))
    messages = [{"role": "system", "content": "한국어로 답하세요."}]
    messages += [{"role": "user" if i % 2 == 0 else "assistant", "content": per} for i in range(turns)]
    return {"model": "qwen2.5-coder-0.5b-instruct", "messages": messages, "stream": True, "max_tokens": 64}


def per_call_us(model: type, data: dict, rounds: int, encode: bool) -> float:
    """Median µs per request: validation, and with `encode` also the UTF-8 encoding the tokenizer does next."""
    n = max(20, 2_000_000 // max(1, len(json.dumps(data))))
    samples = []
    for _ in range(rounds):
        copies = [json.loads(json.dumps(data)) for _ in range(n)]  # fresh strings: no cached UTF-8
        start = time.perf_counter()
        for c in copies:
            req = model.model_validate(c)
            if encode:
                for m in req.messages:
                    m.content.encode("utf-8")
        samples.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    sizes = (1_000, 16_000, 256_000)
    runs = [(s, enc) for s in sizes for enc in (False, True)]
    bounded = {r: per_call_us(ChatCompletionRequest, body(r[0]), args.rounds, r[1]) for r in runs}
    plain_model = unbounded_models()
    plain = {r: per_call_us(plain_model, body(r[0]), args.rounds, r[1]) for r in runs}
    print(f"{'chars':>8} {'step':>18} {'plain µs':>10} {'bounded µs':>11} {'extra µs':>9}")
    for r in runs:
        step = "validate + encode" if r[1] else "validate"
        print(f"{r[0]:>8} {step:>18} {plain[r]:>10.1f} {bounded[r]:>11.1f} {bounded[r] - plain[r]:>9.1f}")


if __name__ == "__main__":
    main()
