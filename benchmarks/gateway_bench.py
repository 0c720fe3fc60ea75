"""What a gateway adds: direct upstream vs LiteLLM proxy vs `jaju serve`, one run, the same fast upstream.

Three targets, each a separate process, in front of ONE canned OpenAI-compatible upstream
(benchmarks/gateway_upstream.py); load comes from benchmarks/gateway_load.py in yet another process.
Non-streaming chat, a 600-character Korean prompt. Per round and target: p50 at concurrency 1,
requests/s at 16, errors at 64, and the CPU each target's process tree spent per answered request (from
/proc: on a small shared box the load generator and the upstream cap every target's req/s, so CPU per
request is what shows how light a gateway is); targets rotate order each round; medians over rounds.

  direct   the upstream itself
  litellm  LiteLLM proxy 1.80.17 in a venv of its own (benchmarks/requirements-litellm.txt: its pins conflict
           with jaju's), found at --litellm, $LITELLM_BIN, ~/.cache/jaju-bench/litellm/bin/litellm or on PATH;
           set up as its production guide says: master
           key, no database, no spend or error logs, `set_verbose: false`, LITELLM_LOG=ERROR, and as many
           worker processes as jaju has API workers (`--litellm-workers`)
  jaju     `jaju serve` with a remote backend on the upstream and the default policy: API key auth, tenant
           policy, PII scan, residency routing, signed label, audit trail (SQLite store). Rate limiting is
           off (`JAJU_LIMITS__REQUESTS_PER_MINUTE=0`) so that the load is not refused.

    python benchmarks/gateway_bench.py [--rounds 3] [--seconds 5] [--profile] [--skip-litellm] [--prompts konlpy]
                                       [--before-src /tmp/before]

`--before-src` adds a second jaju run from another checkout's src/ (`git worktree add /tmp/before <commit>`)
to every round, so a change is measured against the code before it in the same run, not across runs on a box
whose speed drifts; the report's `after_over_before` gives the ratios.

`--profile` runs py-spy (`pip install 'py-spy==0.4.3'`) on the jaju server during one extra c=16 phase
after the rounds (so sampling does not touch the reported numbers) and writes benchmarks/out/:
jaju-c16.collapsed (open in speedscope.app), jaju-c16-top.txt (the top frames by self and total time).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks are scripts; reuse the test helpers for ports and the model file

from benchmarks.gateway_load import PROMPT  # noqa: E402
from benchmarks.gateway_profile import summarise  # noqa: E402
from benchmarks.gateway_upstream import ANSWER  # noqa: E402
from tests.support import free_port, link_models  # noqa: E402

from jaju.engine.catalog import QWEN, assemble  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
LITELLM_KEY = "sk-bench-" + "0" * 24


def wait_ready(url: str, proc: subprocess.Popen, log: Path, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{url} exited early; see {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    sys.exit(f"{url} did not become ready; see {log}")


def spawn(cmd: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})


def start_upstream(tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = spawn([sys.executable, str(HERE / "gateway_upstream.py"), "--port", str(port)], tmp / "upstream.log")
    wait_ready(f"http://127.0.0.1:{port}/health", proc, tmp / "upstream.log", 30)
    return proc, f"http://127.0.0.1:{port}/v1"


def litellm_binary(given: str | None) -> str:
    venv = Path.home() / ".cache" / "jaju-bench" / "litellm" / "bin" / "litellm"
    for candidate in (given, os.environ.get("LITELLM_BIN"), str(venv) if venv.exists() else None,
                      shutil.which("litellm")):
        if candidate:
            return candidate
    sys.exit("LiteLLM is not installed. Put it in its own venv: python -m venv ~/.cache/jaju-bench/litellm && "
             "~/.cache/jaju-bench/litellm/bin/pip install -r benchmarks/requirements-litellm.txt")


def start_litellm(tmp: Path, upstream: str, binary: str, workers: int) -> tuple[subprocess.Popen, str, str]:
    config = tmp / "litellm.yaml"
    config.write_text(f"""model_list:
  - model_name: bench
    litellm_params:
      model: openai/bench
      api_base: {upstream}
      api_key: none
general_settings:
  master_key: {LITELLM_KEY}
  disable_spend_logs: true
  disable_error_logs: true
litellm_settings:
  set_verbose: false
  json_logs: true
  request_timeout: 60
""", encoding="utf-8")
    port = free_port()
    env = {"LITELLM_LOG": "ERROR", "LITELLM_MODE": "PRODUCTION", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    # --keepalive_timeout as jaju's [server] keep_alive_seconds: with uvicorn's 5 s, the same as httpx's idle expiry,
    # a request can go out on a connection the server is closing (a ReadError at c=64 that is no fault of the proxy).
    proc = spawn([binary, "--config", str(config), "--port", str(port), "--host", "127.0.0.1", "--num_workers", str(workers),
                  "--keepalive_timeout", "75"],
                 tmp / "litellm.log", env)
    wait_ready(f"http://127.0.0.1:{port}/health/liveliness", proc, tmp / "litellm.log")
    return proc, f"http://127.0.0.1:{port}/v1", LITELLM_KEY


def start_jaju(tmp: Path, upstream: str, workers: int | None, src: str | None,
               rate_limit: int = 0) -> tuple[subprocess.Popen, str, str]:
    data = tmp / "jaju"
    link_models(data, assemble(QWEN, Path.home() / ".cache" / "jaju-test"))
    (data / "jaju.toml").write_text(f"""jurisdiction = "KR"

[[jurisdictions.KR.backends]]
name = "kr-upstream"
url = "{upstream}"
models = ["bench"]
""", encoding="utf-8")
    port = free_port()
    env = {"JAJU_DATA_DIR": str(data), "JAJU_CONFIG": str(data / "jaju.toml"), "JAJU_ENGINE__THREADS": "1",
           "JAJU_LIMITS__REQUESTS_PER_MINUTE": str(rate_limit), "PYTHONUNBUFFERED": "1"}
    log = tmp / "jaju.log"
    if src:  # another checkout of jaju (e.g. `git archive` of a commit, to measure before and after)
        if not (Path(src) / "src" / "jaju").is_dir():  # else the installed jaju would run under its name
            sys.exit(f"{src} is not a checkout of jaju (no src/jaju)")
        env["PYTHONPATH"] = str(Path(src) / "src")
    cmd = [sys.executable, "-m", "jaju", "serve", "--port", str(port)]
    proc = spawn(cmd + (["--workers", str(workers)] if workers else []), log, env)
    wait_ready(f"http://127.0.0.1:{port}/readyz", proc, log)
    key = next(line.split("=", 1)[1].strip() for line in log.read_text().splitlines() if "OPENAI_API_KEY=" in line)
    return proc, f"http://127.0.0.1:{port}/v1", key


def start_floor(tmp: Path, upstream: str, app: str, workers: int) -> tuple[subprocess.Popen, str, str]:
    """A gateway_floor.py app under uvicorn, configured as jaju's API workers are (uvloop, httptools, no access log)."""
    port = free_port()
    log = tmp / f"floor-{app}.log"
    proc = spawn([sys.executable, "-m", "uvicorn", f"benchmarks.gateway_floor:{app}_app", "--port", str(port),
                  "--workers", str(workers), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                  "--log-level", "warning", "--timeout-keep-alive", "75"], log,
                 {"GATEWAY_FLOOR_UPSTREAM": upstream, "PYTHONPATH": str(ROOT)})
    wait_ready(f"http://127.0.0.1:{port}/health", proc, log)
    return proc, f"http://127.0.0.1:{port}/v1", "none"


def check(name: str, url: str, key: str, tmp: Path) -> None:
    """One request, no clock: the first one may load lazily-built parts (Kiwi, caches)."""
    body = {"model": "bench", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 64}
    r = httpx.post(url + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=180)
    if r.status_code != 200 or r.json()["choices"][0]["message"]["content"] != ANSWER:
        sys.exit(f"{name} does not answer as expected: HTTP {r.status_code} {r.text[:300]} (logs in {tmp})")


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its descendants (workers, engine process), from /proc."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # exited meanwhile
            continue
        fields = stat[stat.rindex(b")") + 2:].split()  # after "pid (comm) ": state, ppid, ...
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(p, 0.0) for p in tree)


def konlpy_corpus(tmp: Path) -> Path:
    """konlpy 0.6.0's public-domain texts (ten National Assembly bills and the Constitution; the bench extra) in
    one file: prose whose wording nobody chose for jaju's name recognizer."""
    from benchmarks.knowledge_common import corpus_root

    try:
        root = corpus_root()
    except ImportError:
        sys.exit("--prompts konlpy needs konlpy: pip install 'konlpy==0.6.0' (the bench extra)")
    files = sorted((root / "kobill").glob("*.txt")) + [root / "kolaw" / "constitution.txt"]
    path = tmp / "corpus.txt"
    path.write_text("\n".join(f.read_text(encoding="utf-8") for f in files), encoding="utf-8")
    return path


def load(url: str, key: str, concurrency: int, seconds: float, warmup: float, pid: int | None = None,
         corpus: Path | None = None, client: str = "raw") -> dict:
    """One load phase; with `pid`, also the CPU that process tree spent per answered request (ms) and, half-way
    through, how the open connections are spread over its processes (`conns_by_process`, most first)."""
    cpu_before = tree_cpu_seconds(pid) if pid else 0.0
    split: list[list[int]] = []
    if pid and concurrency > 1:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        timer = threading.Timer(warmup + seconds / 2, lambda: split.append(connections_by_process(port)))
        timer.start()
    r = subprocess.run([sys.executable, str(HERE / "gateway_load.py"), "--url", url, "--key", key, "--concurrency",
                        str(concurrency), "--seconds", str(seconds), "--warmup", str(warmup), "--client", client]
                       + (["--corpus", str(corpus)] if corpus else []),
                       capture_output=True, text=True, timeout=seconds + warmup + 120)
    if r.returncode != 0:
        sys.exit(f"load generator failed: {r.stderr[-2000:]}")
    result = json.loads(r.stdout)
    if split:
        result["conns_by_process"] = split[0]
    if pid and result["answered_all"]:
        result["cpu_ms_per_req"] = round(1000 * (tree_cpu_seconds(pid) - cpu_before) / result["answered_all"], 3)
    return result


def connections_by_process(port: int) -> list[int]:
    """Established connections to `port`, counted by the process holding them (iproute2's ss), most first."""
    try:
        out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted(Counter(re.findall(r"pid=(\d+)", out)).values(), reverse=True)


def profile(pid: int, url: str, key: str, seconds: float, corpus: Path | None, client: str) -> dict:
    """py-spy on the jaju server while c=16 load runs; returns the summary's top frames."""
    binary = shutil.which("py-spy") or sys.exit("py-spy is not installed: pip install 'py-spy==0.4.3'")
    OUT.mkdir(exist_ok=True)
    raw = OUT / "jaju-c16.collapsed"
    spy = subprocess.Popen([binary, "record", "--pid", str(pid), "--duration", str(int(seconds) + 1), "--rate", "200",
                            "--format", "raw", "--function", "--nonblocking", "--subprocesses", "--output", str(raw)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # py-spy attaches
    phase = load(url, key, 16, seconds, 0.5, corpus=corpus, client=client)
    _, err = spy.communicate(timeout=120)
    if spy.returncode != 0 or not raw.exists():
        sys.exit(f"py-spy failed: {err.decode(errors='replace')[-1000:]}")
    top = summarise(raw, 15)
    (OUT / "jaju-c16-top.txt").write_text(top["text"], encoding="utf-8")
    return {"load": phase, "samples": top["samples"], "self": top["self"], "total": top["total"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0, help="measured seconds per phase")
    ap.add_argument("--warmup", type=float, default=1.0, help="uncounted seconds before each phase")
    ap.add_argument("--profile", action="store_true", help="py-spy the jaju server in an extra c=16 phase")
    ap.add_argument("--skip-litellm", action="store_true")
    ap.add_argument("--litellm", help="path of the `litellm` executable")
    ap.add_argument("--jaju-workers", type=int, help="API workers for `jaju serve --workers` (default: its own, "
                                                     "the machine's cores)")
    ap.add_argument("--litellm-workers", type=int, help="LiteLLM's --num_workers (default: as many as jaju's API "
                                                        "workers, so both sides run the same number of processes)")
    ap.add_argument("--jaju-src", help="run jaju from this checkout's src/ instead of the installed one")
    ap.add_argument("--before-src", help="also run jaju from this checkout's src/ (e.g. `git worktree add /tmp/before "
                                         "<commit>`) as target `jaju_before`, in the same rounds: before and after "
                                         "measured side by side on the same noisy box")
    ap.add_argument("--prompts", choices=("fixed", "konlpy"), default="fixed",
                    help="fixed: gateway_load's one paragraph with a unique tag; konlpy: 600-character slices of "
                         "konlpy's bills and Constitution (texts not written for jaju), a different slice per request")
    ap.add_argument("--rate-limit", type=int, default=0,
                    help="jaju's requests per minute per key (default 0: off, so the load is not refused); a limit "
                         "too high to reach still runs the check, which `--workers` share through one SQLite file")
    ap.add_argument("--floor", action="store_true",
                    help="also run gateway_floor.py's two forwarders (bare ASGI, FastAPI): what this stack costs before "
                         "a gateway does any work of its own")
    ap.add_argument("--client", choices=("raw", "httpx"), default="raw",
                    help="the load generator's HTTP client (gateway_load.py): raw asyncio streams, or httpx as "
                         "before round 6, which spends 1-2 ms of the box's CPU per request")
    args = ap.parse_args()
    litellm_workers = args.litellm_workers or args.jaju_workers or os.cpu_count() or 1
    tmp = Path(tempfile.mkdtemp(prefix="jaju-gateway-"))
    procs: list[subprocess.Popen] = []
    corpus = konlpy_corpus(tmp) if args.prompts == "konlpy" else None
    try:
        up, upstream = start_upstream(tmp)
        procs.append(up)
        targets = {"direct": (upstream, "none")}
        pids = {"direct": up.pid}
        if not args.skip_litellm:
            proc, url, key = start_litellm(tmp, upstream, litellm_binary(args.litellm), litellm_workers)
            procs.append(proc)
            targets["litellm"] = (url, key)
            pids["litellm"] = proc.pid
        jaju, url, key = start_jaju(tmp, upstream, args.jaju_workers, args.jaju_src, args.rate_limit)
        procs.append(jaju)
        targets["jaju"] = (url, key)
        pids["jaju"] = jaju.pid
        if args.floor:
            for app in ("asgi", "fastapi"):
                proc, url, key = start_floor(tmp, upstream, app, litellm_workers)
                procs.append(proc)
                targets[f"floor_{app}"] = (url, key)
                pids[f"floor_{app}"] = proc.pid
        if args.before_src:
            (tmp / "before").mkdir()
            before, url, key = start_jaju(tmp / "before", upstream, args.jaju_workers, args.before_src, args.rate_limit)
            procs.append(before)
            targets["jaju_before"] = (url, key)
            pids["jaju_before"] = before.pid
        for name, (url, key) in targets.items():  # every target answers correctly before anything is timed
            check(name, url, key, tmp)
        rounds = []
        names = list(targets)
        for i in range(args.rounds):
            order = names[i % len(names):] + names[:i % len(names)]
            result = {}
            for name in order:
                url, key = targets[name]
                result[name] = {f"c{c}": load(url, key, c, args.seconds, args.warmup, pids[name], corpus, args.client)
                                for c in (1, 16, 64)}
            rounds.append(result)
            print(json.dumps({"round": i + 1, **result}, ensure_ascii=False), file=sys.stderr)
        report = summary(rounds, names)
        report["setup"] = {"jaju_workers": args.jaju_workers, "litellm_workers": litellm_workers,
                           "jaju_src": args.jaju_src, "before_src": args.before_src, "rounds": args.rounds, "prompts": args.prompts,
                           "seconds": args.seconds, "warmup": args.warmup, "cpus": os.cpu_count(), "client": args.client, "rate_limit": args.rate_limit,
                           "load1": os.getloadavg()[0]}
        if args.profile:
            report["profile"] = profile(jaju.pid, *targets["jaju"], args.seconds, corpus, args.client)
        OUT.mkdir(exist_ok=True)
        (OUT / "gateway.json").write_text(json.dumps({"report": report, "rounds": rounds}, indent=2,
                                                     ensure_ascii=False), encoding="utf-8")
        print(json.dumps(report, indent=2, ensure_ascii=False))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def summary(rounds: list[dict], names: list[str]) -> dict:
    def med(name: str, phase: str, field: str) -> float:
        return round(statistics.median(r[name][phase][field] for r in rounds), 3)

    table = {}
    direct_p50 = med("direct", "c1", "p50_ms")
    for name in names:
        table[name] = {"p50_ms_c1": med(name, "c1", "p50_ms"), "added_p50_ms_c1": round(med(name, "c1", "p50_ms")
                                                                                         - direct_p50, 3),
                       "req_per_s_c16": med(name, "c16", "req_per_s"), "req_per_s_c64": med(name, "c64", "req_per_s"),
                       "cpu_ms_per_req_c16": med(name, "c16", "cpu_ms_per_req"),
                       "errors_c64": sum(r[name]["c64"]["errors"] for r in rounds),
                       "errors_all": sum(r[name][p]["errors"] for r in rounds for p in ("c1", "c16", "c64"))}
    if "litellm" in table and "jaju" in table:
        lite, jaju = table["litellm"], table["jaju"]
        table["goals"] = {
            "added_p50_vs_litellm": round(jaju["added_p50_ms_c1"] / lite["added_p50_ms_c1"], 2)
            if lite["added_p50_ms_c1"] > 0 else None,
            "req_per_s_c16_vs_litellm": round(jaju["req_per_s_c16"] / lite["req_per_s_c16"], 2)
            if lite["req_per_s_c16"] else None,
            # The gateway's own CPU per request (its whole process tree), free of the shared box's limit: at
            # c=16 the load generator and the upstream run on the same two cores and cap every target's req/s.
            "cpu_per_req_c16_litellm_over_jaju": round(lite["cpu_ms_per_req_c16"] / jaju["cpu_ms_per_req_c16"], 2)
            if jaju["cpu_ms_per_req_c16"] else None,
            "target": "added p50 <= 0.2x LiteLLM, req/s at c=16 >= 3x LiteLLM, 0 errors at c=64"}
    if "jaju_before" in table:
        now, then = table["jaju"], table["jaju_before"]
        table["after_over_before"] = {  # below 1.0 is better for p50 and CPU, above 1.0 for req/s
            "added_p50_c1": round(now["added_p50_ms_c1"] / then["added_p50_ms_c1"], 3) if then["added_p50_ms_c1"] > 0
            else None,
            "req_per_s_c16": round(now["req_per_s_c16"] / then["req_per_s_c16"], 3) if then["req_per_s_c16"] else None,
            "cpu_ms_per_req_c16": round(now["cpu_ms_per_req_c16"] / then["cpu_ms_per_req_c16"], 3)
            if then["cpu_ms_per_req_c16"] else None}
    return table


if __name__ == "__main__":
    main()
