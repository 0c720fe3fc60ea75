"""GDPR Art. 30(1) record of processing activities, from configuration and real usage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from jaju.compliance.policy import Policy
from jaju.compliance.reports.base import Report, md_table, sources

DEFAULT_PURPOSES = ["Answering users' requests with language models (chat, completion, embeddings)",
                    "Retrieval over documents the tenant uploads (knowledge bases)",
                    "Security, abuse prevention and the tamper-evident audit trail"]
DEFAULT_MEASURES = [("Detection of personal data before model input; pseudonymisation, masking, redaction per "
                     "policy (Art. 25(1), 32(1)(a))"),
                    ("Envelope encryption AES-256-GCM with a key per tenant and per data subject; erasure by "
                     "destroying keys (Art. 32(1)(a))"),
                    "Hash-chained audit log with Ed25519-signed checkpoints; keyed digests instead of content",
                    "Residency routing: content processed only in jurisdictions the policy allows, fail closed"]


def ropa(*, controller: Mapping[str, str], tenants: Sequence[Mapping[str, Any]], policies: Mapping[str, Policy],
         usage_rows: Sequence[Mapping[str, Any]], models: Sequence[Mapping[str, Any]], generated_at: datetime,
         purposes: Sequence[str] = (), security_measures: Sequence[str] = ()) -> Report:
    """One record per tenant: purposes, data, recipients, transfers, erasure limits, measures."""
    model_place = {m["id"]: m.get("jurisdiction", "?") for m in models}
    usage: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for row in usage_rows:
        u = usage[row["tenant_id"]][row["model"]]
        for k in ("requests", "prompt_tokens", "completion_tokens"):
            u[k] += int(row.get(k, 0))
    days = sorted({str(r["day"]) for r in usage_rows})

    records = []
    for t in tenants:
        policy = policies.get(t["id"])
        used = usage.get(t["id"], {})
        allowed = policy.processing.value if policy and policy.processing else None
        recipients = [{"model": m, "jurisdiction": model_place.get(m, "?"), **dict(n)} for m, n in sorted(used.items())]
        transfers = [r for r in recipients if allowed is not None and r["jurisdiction"] not in allowed]
        records.append({
            "tenant": {"id": t["id"], "name": t.get("name", ""), "jurisdiction": t.get("jurisdiction", "")},
            "packs": list(policy.packs) if policy else [],
            "purposes": list(purposes or DEFAULT_PURPOSES),
            "data_subjects": ["The tenant's users", "People named in users' input and documents"],
            "personal_data": ({e: {s: r.value.value for s, r in a.items()} for e, a in policy.pii.items()}
                              if policy else {}),
            "recipients": recipients,
            "processing_jurisdictions": sorted(allowed) if allowed is not None else None,
            "transfers": transfers,
            "transfer_bases": {b: sources(r) for b, r in policy.transfer_bases.items()} if policy else {},
            "erasure": {"content_days": policy.content_max_days.value if policy and policy.content_max_days else None,
                        "content_source": sources(policy.content_max_days) if policy else "",
                        "logs_min_days": policy.logs_min_days.value if policy and policy.logs_min_days else None},
            "security_measures": list(security_measures or DEFAULT_MEASURES),
        })
    data = {"article": "GDPR Art. 30(1)", "generated_at": generated_at.isoformat(timespec="seconds"),
            "controller": dict(controller), "usage_period": [days[0], days[-1]] if days else None, "records": records}
    return Report("ropa", data, _markdown(data))


def _markdown(data: dict[str, Any]) -> str:
    c = data["controller"]
    out = ["# Record of processing activities (GDPR Art. 30(1))", "",
           f"Generated {data['generated_at']}. Usage period: "
           + (" to ".join(data["usage_period"]) if data["usage_period"] else "no usage recorded") + ".", "",
           "## (a) Controller", "",
           md_table(["field", "value"], [[k, v] for k, v in c.items()] or [["name", "(set compliance.controller)"]])]
    for r in data["records"]:
        t = r["tenant"]
        out += ["", f"## Tenant {t['name'] or t['id']} ({t['jurisdiction']}; packs: {', '.join(r['packs'])})", "",
                "### (b) Purposes", "", *[f"- {p}" for p in r["purposes"]], "",
                "### (c) Data subjects and personal data", "", *[f"- {s}" for s in r["data_subjects"]], "",
                md_table(["entity", "model input", "storage", "logs"],
                         [[e, a.get("model_input"), a.get("storage"), a.get("logs")]
                          for e, a in r["personal_data"].items()]), "",
                "### (d) Recipients (models that processed the tenant's requests)", "",
                md_table(["model", "jurisdiction", "requests", "prompt tokens", "completion tokens"],
                         [[x["model"], x["jurisdiction"], x.get("requests", 0), x.get("prompt_tokens", 0),
                           x.get("completion_tokens", 0)] for x in r["recipients"]]), "",
                "### (e) Transfers to third countries", "",
                (md_table(["model", "jurisdiction"], [[x["model"], x["jurisdiction"]] for x in r["transfers"]])
                 + "\n\nEach needs one of: " + (", ".join(r["transfer_bases"]) or "no basis accepted by every pack"))
                if r["transfers"] else
                f"None: every request was processed in {', '.join(r['processing_jurisdictions'] or ['(unrestricted)'])}.",
                "", "### (f) Time limits for erasure", "",
                f"- Content: {r['erasure']['content_days']} days ({r['erasure']['content_source']})"
                if r["erasure"]["content_days"] is not None else "- Content: no limit set by the packs",
                f"- Logs kept at least {r['erasure']['logs_min_days']} days" if r["erasure"]["logs_min_days"] else
                "- Logs: no minimum", "", "### (g) Security measures", "",
                *[f"- {m}" for m in r["security_measures"]]]
    return "\n".join(out) + "\n"
