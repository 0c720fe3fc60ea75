"""AI Act Art. 12 event-log export for a period, verifiable against the audit chain."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from jaju.compliance.reports.base import Report, md_table


def ai_act_logs(records: Sequence[Mapping[str, Any]], start: datetime, end: datetime, *,
                deployment: Mapping[str, Any], generated_at: datetime) -> Report:
    """Audit records with start <= ts < end, with counts and the chain hashes that anchor them."""
    if end <= start:
        raise ValueError("the end of the period must come after its start")
    events = [dict(r) for r in records if start <= datetime.fromisoformat(str(r["ts"])) < end]
    events.sort(key=lambda r: r.get("seq", 0))
    by_action = Counter(e["action"] for e in events)
    by_tenant = Counter(e.get("tenant") or "-" for e in events)
    by_day = Counter(str(e["ts"])[:10] for e in events)
    data = {"article": "AI Act Art. 12; Art. 19(1); Art. 26(6)",
            "period": {"from": start.isoformat(), "to": end.isoformat()},
            "generated_at": generated_at.isoformat(timespec="seconds"), "deployment": dict(deployment),
            "count": len(events),
            "first_seq": events[0].get("seq") if events else None,
            "last_seq": events[-1].get("seq") if events else None,
            "by_action": dict(sorted(by_action.items())), "by_tenant": dict(sorted(by_tenant.items())),
            "events": events}
    md = ["# AI Act event logs (Art. 12)", "",
          f"Period {start.isoformat()} to {end.isoformat()} (end excluded); generated {data['generated_at']}.",
          f"Deployment: {', '.join(f'{k} {v}' for k, v in deployment.items())}.", "",
          f"{len(events)} events" + (f", sequence {data['first_seq']} to {data['last_seq']}." if events else "."), "",
          ("Events hold keyed digests, never content. Check them against the hash chain with the deployment's "
           "public key (`jaju audit verify`)."), "",
          "## By action", "", md_table(["action", "events"], sorted(by_action.items())), "",
          "## By tenant", "", md_table(["tenant", "events"], sorted(by_tenant.items())), "",
          "## By day", "", md_table(["day", "events"], sorted(by_day.items()))]
    return Report("ai-act-logs", data, "\n".join(md) + "\n")
