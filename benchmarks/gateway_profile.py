"""Summarise a py-spy collapsed-stack profile: top frames by self and total time, and self time per package.

    python benchmarks/gateway_profile.py benchmarks/out/jaju-c16.collapsed [--top 15]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>[^()]*):(?P<line>\d+)\)$")


def _short(frame: str) -> str:
    """`func (…/site-packages/pkg/mod.py:12)` -> `func (pkg/mod.py:12)`."""
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m["file"]
    for marker in ("site-packages/", "/src/", "/lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3.":
                path = "stdlib/" + path.split("/", 1)[-1]
            break
    return f"{m['name']} ({path}:{m['line']})"


def _package(frame: str) -> str:
    m = _FRAME.match(_short(frame))
    if not m:
        return "other"
    parts = m["file"].split("/")
    if parts[0] == "jaju" and len(parts) > 2:
        return "jaju/" + parts[1]
    if parts[0] == "stdlib" and len(parts) > 1:
        return "stdlib/" + parts[1].removesuffix(".py")
    return parts[0].removesuffix(".py")


def summarise(path: Path, top: int = 15) -> dict:
    """Parse `frame;frame;... count` lines; return counts and a readable text report."""
    self_time: Counter[str] = Counter()
    total: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    samples = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_short(f) for f in stack.split(";")]
        samples += n
        self_time[frames[-1]] += n
        packages[_package(stack.split(";")[-1])] += n
        for f in set(frames):
            total[f] += n
    rows_self = self_time.most_common(top)
    # Inclusive time only for jaju's own functions below the CLI: the event loop, uvicorn and click wrap
    # every stack and say nothing about what to cut.
    rows_total = [(f, n) for f, n in total.most_common()
                  if _package(f).startswith("jaju/") and not _package(f).startswith("jaju/cli")][:top]

    def pct(n: int) -> str:
        return f"{100 * n / samples:5.1f}%" if samples else "  -  "

    lines = [f"py-spy samples: {samples}", "", f"Top {top} frames by self time (where the CPU was):"]
    lines += [f"  {pct(n)}  {f}" for f, n in rows_self]
    lines += ["", f"Top {top} jaju functions by total time (self + callees):"]
    lines += [f"  {pct(n)}  {f}" for f, n in rows_total]
    lines += ["", "Self time by package:"]
    lines += [f"  {pct(n)}  {p}" for p, n in packages.most_common(20)]
    return {"samples": samples, "self": [[f, n] for f, n in rows_self], "total": [[f, n] for f, n in rows_total],
            "packages": packages.most_common(20), "text": "\n".join(lines) + "\n"}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("collapsed", type=Path)
    ap.add_argument("--top", type=int, default=15)
    a = ap.parse_args()
    print(summarise(a.collapsed, a.top)["text"], end="")
