"""The residency report: where each of a tenant's requests was processed and where its data is kept."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from jaju.store.db import Database
from jaju.store.tables import AuditEvent

TRANSFER_ACTIONS = ("transfer.allowed", "transfer.refused", "transfer.basis.add", "transfer.basis.remove")


def tenant_records(db: Database, tenant_id: str, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """The tenant's audit records (as `Event.to_record()` wrote them), oldest first."""
    q = select(AuditEvent.body).where(AuditEvent.tenant_id == tenant_id).order_by(AuditEvent.seq)
    if since is not None:
        q = q.where(AuditEvent.ts >= since)
    with db.sessions() as s:
        for body in s.scalars(q.execution_options(yield_per=5000)):
            yield json.loads(body)


def build_report(records: Iterable[dict[str, Any]], *, tenant_id: str, home: str, storage: dict[str, str],
                 since: datetime | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Aggregate records into the report's data; `storage` says where the tenant's data is kept."""
    processing: dict[tuple[str, str, str], dict[str, Any]] = {}
    transfers: dict[tuple[str, str, str], int] = {}
    refused: dict[str, int] = {}
    bases: list[dict[str, Any]] = []
    erasures: list[str] = []
    first = last = None
    for r in records:
        ts = r.get("ts")
        if since is not None and ts and datetime.fromisoformat(ts) < since:
            continue
        first = first or ts
        last = ts or last
        action = r.get("action", "")
        if action == "transfer.allowed":
            key = (r.get("to", "?"), r.get("basis", ""), r.get("evidence", ""))
            transfers[key] = transfers.get(key, 0) + 1
        elif action == "transfer.refused":
            for to in r.get("to") or ["?"]:
                refused[to] = refused.get(to, 0) + 1
        elif action in ("transfer.basis.add", "transfer.basis.remove"):
            bases.append({"ts": ts, "change": action.rsplit(".", 1)[1], "to": r.get("to"),
                          "basis": r.get("basis"), "evidence": r.get("evidence")})
        elif action == "tenant.erase":
            erasures.append(ts)
        if r.get("jurisdiction") and r.get("backend"):
            key = (r["jurisdiction"], r["backend"], r.get("model") or "")
            row = processing.setdefault(key, {"jurisdiction": key[0], "backend": key[1], "model": key[2],
                                              "requests": 0, "failed": 0, "first": ts, "last": ts})
            row["requests"] += 1
            row["failed"] += 0 if r.get("status") in ("ok", 200) else 1
            row["last"] = ts
    abroad = sorted({j for j, _, _ in processing if j != home})
    with_basis = {to for to, _, _ in transfers}
    return {
        "tenant": tenant_id, "home": home,
        "period": {"since": since.isoformat() if since else first, "until": last},
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "storage": storage,
        "processing": sorted(processing.values(), key=lambda p: (p["jurisdiction"] != home, p["jurisdiction"],
                                                                  p["backend"], p["model"])),
        "transfers": [{"to": to, "basis": b, "evidence": ev, "requests": n}
                      for (to, b, ev), n in sorted(transfers.items())],
        "refused": [{"to": to, "requests": n} for to, n in sorted(refused.items())],
        "basis_changes": bases,
        "erasures": erasures,
        # Processing abroad with no transfer.allowed event explaining it would be a residency breach.
        "unexplained_abroad": [j for j in abroad if j not in with_basis],
    }


def render_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)


def _table(rows: list[dict[str, Any]], cols: list[str]) -> list[str]:
    if not rows:
        return ["(none)"]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(str(r.get(c, "")).replace("|", "\\|") for c in cols) + " |" for r in rows]
    return out


def render_markdown(report: dict[str, Any]) -> str:
    p = report["period"]
    lines = [f"# Residency report: tenant {report['tenant']}", "",
             f"- Home jurisdiction: **{report['home']}**",
             f"- Period: {p['since'] or 'start'} to {p['until'] or 'now'}",
             f"- Generated: {report['generated_at']}", "",
             "## Where data is stored", ""]
    lines += _table([report["storage"]], list(report["storage"]))
    lines += ["", "## Where requests were processed", ""]
    lines += _table(report["processing"], ["jurisdiction", "backend", "model", "requests", "failed", "first", "last"])
    lines += ["", "## Cross-border transfers (with their legal basis)", ""]
    lines += _table(report["transfers"], ["to", "basis", "evidence", "requests"])
    lines += ["", "## Transfers refused (no basis; answered 503 instead)", ""]
    lines += _table(report["refused"], ["to", "requests"])
    lines += ["", "## Changes to recorded bases", ""]
    lines += _table(report["basis_changes"], ["ts", "change", "to", "basis", "evidence"])
    if report["erasures"]:
        lines += ["", "## Erasure", "", *(f"- Tenant erased (keys destroyed) at {t}" for t in report["erasures"])]
    lines += [""]
    if report["unexplained_abroad"]:
        lines.append(f"**Warning:** processing in {', '.join(report['unexplained_abroad'])} has no recorded "
                     "transfer event.")
    else:
        lines.append("Every request was processed at home or under a recorded legal basis.")
    return "\n".join(lines) + "\n"
