"""Do users get their own personal data back? Pseudonym forms measured through the in-process app.

For each prompt in benchmarks/pseudonym_prompts.py (the user asks the model to repeat or use their
own name, phone, RRN, e-mail or address) the real default model answers through jaju's chat path
(temperature 0, fixed seed). A reply counts as a round trip when every original value is in it and
no placeholder or surrogate of the conversation is. Modes:

- placeholder-old: [PERSON_1] placeholders, restored only in the exact bracketed form (the old restorer)
- placeholder:     placeholders, restored in every form a model writes (matching.py)
- surrogate-names: surrogates for names, placeholders for the rest
- surrogate:       surrogates wherever a generator exists (names, phones, RRNs, e-mails), placeholders else

Run: python benchmarks/pseudonym_bench.py [--limit N] [--max-tokens 48] [--modes placeholder,surrogate]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks are scripts; reuse the test helpers for the model file

import httpx  # noqa: E402

from benchmarks.pseudonym_prompts import PROMPTS  # noqa: E402
from jaju.app import create_app  # noqa: E402
from jaju.cli.serve import bootstrap  # noqa: E402
from jaju.engine.catalog import QWEN, assemble  # noqa: E402
from jaju.privacy.service import PrivacyService  # noqa: E402
from jaju.privacy.session import PLACEHOLDER, Session  # noqa: E402
from jaju.services import build_services  # noqa: E402
from tests.support import link_models, make_settings  # noqa: E402

MODEL = "qwen2.5-coder-0.5b-instruct"
MODES = {
    "placeholder": frozenset(),  # judged twice: with the old restorer (placeholder-old) and the new one
    "surrogate-names": frozenset({"PERSON"}),
    "surrogate": frozenset({"PERSON", "KR_PHONE", "KR_RRN", "KR_FRN", "EMAIL", "IP_ADDRESS"}),
}
# Any placeholder-looking word a model may leave behind (PERSON_1, kr-phone 2, [EMAIL_1]).
LEAK = re.compile(r"(?i)(?:PERSON|PHONE|RRN|FRN|EMAIL|ADDRESS|ACCOUNT|CARD|PASSPORT)[_\- ]?\d+")


def _old_restore(self: Session, text: str, escape=None) -> str:
    """The restorer before issue 12: only the exact [X_n] form."""
    return PLACEHOLDER.sub(lambda m: self.values.get(m.group(0), m.group(0)), text)


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def judge(reply: str, values: tuple[str, ...], session: Session | None) -> tuple[bool, bool]:
    """(every original value is back, no token leaked)."""
    reply_digits = _digits(reply)
    back = all(v in reply or (len(_digits(v)) >= 9 and _digits(v) in reply_digits) for v in values)
    leaked = LEAK.search(reply) is not None
    if session is not None:
        for token in session.values:
            if PLACEHOLDER.fullmatch(token):
                continue
            d = _digits(token)
            if token in reply or (len(d) >= 9 and d in reply_digits):
                leaked = True
    return back, not leaked


async def run_mode(api: httpx.AsyncClient, services, mode: str, prompts, max_tokens: int, log) -> list[dict]:
    """One engine pass; placeholder mode judges the same model text with the old and the new restorer."""
    sessions: list[Session] = []
    raw: list[str] = []
    original_protect = PrivacyService.protect
    original_restore = Session.restore

    def spy(self, tenant_id, messages, policy, *args, **kwargs):
        # The tenant's policy, with this mode's choice of pseudonym form.
        policy = dataclasses.replace(policy, surrogates=MODES[mode])
        out = original_protect(self, tenant_id, messages, policy, *args, **kwargs)
        sessions.append(out[1])
        return out

    def recording_restore(self, text, escape=None):
        raw.append(text)
        return original_restore(self, text, escape)

    PrivacyService.protect = spy
    Session.restore = recording_restore
    variants = ("placeholder-old", "placeholder") if mode == "placeholder" else (mode,)
    counts = {v: [0, 0, 0] for v in variants}
    started = time.perf_counter()
    try:
        for i, (prompt, values) in enumerate(prompts):
            sessions.clear()
            raw.clear()
            r = await api.post("/v1/chat/completions", headers={"Authorization": f"Bearer {services.admin_secret}"},
                               json={"model": MODEL, "max_tokens": max_tokens, "temperature": 0, "seed": 7,
                                     "messages": [{"role": "user", "content": prompt}]})
            r.raise_for_status()
            reply = r.json()["choices"][0]["message"]["content"]
            session = sessions[0] if sessions else None
            for v in variants:
                text = reply
                if v == "placeholder-old" and session is not None:
                    text = _old_restore(session, raw[-1] if raw else reply)
                back, clean = judge(text, values, session)
                counts[v][0] += back and clean
                counts[v][1] += back
                counts[v][2] += clean
                log.write(json.dumps({"mode": v, "i": i, "ok": back and clean, "back": back, "clean": clean,
                                      "model": raw[-1] if raw else None, "reply": text}, ensure_ascii=False) + "\n")
            log.flush()
    finally:
        Session.restore = original_restore
        PrivacyService.protect = original_protect
    n = len(prompts)
    seconds = round(time.perf_counter() - started, 1)
    return [{"mode": v, "n": n, "round_trip": c[0] / n, "values_back": c[1] / n, "no_leak": c[2] / n,
             "seconds": seconds} for v, c in counts.items()]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=len(PROMPTS))
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--log", default=str(ROOT / "benchmarks" / "out" / "pseudonym_bench.jsonl"))
    args = ap.parse_args()
    gguf = assemble(QWEN, Path.home() / ".cache" / "jaju-test")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        link_models(data_dir, gguf)
        services = build_services(make_settings(data_dir))
        services.admin_secret = bootstrap(services)
        services.load_models()
        app = create_app(services=services, load_models=False)
        Path(args.log).parent.mkdir(parents=True, exist_ok=True)
        results = []
        with open(args.log, "w", encoding="utf-8") as log:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jaju.test",
                                         timeout=600) as api:
                for mode in args.modes.split(","):
                    for row in await run_mode(api, services, mode, PROMPTS[:args.limit], args.max_tokens, log):
                        results.append(row)
                        print(json.dumps(row), flush=True)
        services.usage.flush()
        services.audit.close()
        services.db.dispose()
    print(f"\n{'mode':<18}{'n':>4}{'round trip':>12}{'values back':>13}{'no leak':>9}")
    for r in results:
        print(f"{r['mode']:<18}{r['n']:>4}{r['round_trip']:>12.2f}{r['values_back']:>13.2f}{r['no_leak']:>9.2f}")


if __name__ == "__main__":
    asyncio.run(main())
