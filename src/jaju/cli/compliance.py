"""`jaju policy|provenance|watermark|retention|report|high-impact`: the law as software, from the shell."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import click
from sqlalchemy import select

from jaju.audit.keys import load_public
from jaju.cli.context import CliContext, emit_json, friendly, pass_ctx, table
from jaju.compliance import reports
from jaju.compliance.highimpact import checklist
from jaju.compliance.policy import Policy
from jaju.compliance.provenance import verify
from jaju.errors import JajuError
from jaju.store.tables import AuditEvent


def tenant_policy(ctx: CliContext, ref: str) -> tuple[object, Policy]:
    """A tenant (by id or name) and its effective policy."""
    tenant = ctx.services.tenants.get(ref)
    return tenant, ctx.services.compliance.policy_for(tenant.id, tenant.jurisdiction, tenant.settings.get("packs", ()))


def _out(report: reports.Report, as_json: bool, output: Path | None) -> None:
    text = report.to_json() + "\n" if as_json else report.markdown
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}")
    else:
        click.echo(text, nl=False)


def _day(value: str) -> datetime:
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time.min, UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise JajuError(f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 time.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- policy ------------------------------------------------------------------------------------
@click.group()
def policy() -> None:
    """Effective compliance policy: packs merged strictest-wins."""


@policy.command("explain")
@click.option("--tenant", "-t", required=True, help="Tenant name or id.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@friendly
def policy_explain(ctx: CliContext, tenant: str, as_json: bool) -> None:
    """Print every effective rule with the pack and article it came from."""
    _, pol = tenant_policy(ctx, tenant)
    print_policy(pol, as_json)


def print_policy(pol: Policy, as_json: bool = False) -> None:
    """Print a resolved policy as a table (or JSON)."""
    if as_json:
        emit_json(pol.to_dict())
        return
    click.echo(f"Packs: {', '.join(pol.packs)}  (jurisdiction {pol.jurisdiction}"
               + (", high-impact" if pol.high_impact else "") + ")")
    for c in pol.conflicts:
        click.echo(f"CONFLICT: {c}")
    table([{"rule": n, "value": v, "source": "; ".join(str(s) for s in src)} for n, v, src in pol.explain()],
          ["rule", "value", "source"])


# --- provenance and watermark -----------------------------------------------------------------
@click.group()
def provenance() -> None:
    """Signed provenance manifests of generated content."""


@provenance.command("verify")
@click.argument("content", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--manifest", "-m", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The manifest JSON (the response's jaju.provenance object).")
@click.option("--public-key", "-k", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Signer's public key PEM (default: this deployment's key).")
@pass_ctx
@friendly
def provenance_verify(ctx: CliContext, content: Path, manifest: Path, public_key: Path | None) -> None:
    """Check CONTENT (exact bytes) against a manifest; exit status 1 says something does not match."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise JajuError(f"{manifest} is not a JSON manifest ({e}).") from None
    data = data.get("provenance", data) if isinstance(data, dict) else data
    if not isinstance(data, dict):
        raise JajuError(f"{manifest} holds no manifest object.")
    if public_key:
        try:
            public = load_public(public_key.read_bytes())
        except ValueError:
            raise JajuError(f"{public_key} is not an Ed25519 public key in PEM.") from None
    else:
        public = ctx.services.key.public
    result = verify(content.read_bytes(), data, public)
    for name, ok in result.checks.items():
        click.echo(f"{'ok  ' if ok else 'FAIL'}  {name}")
    for p in result.problems:
        click.echo(f"- {p}")
    if not result.ok:
        raise SystemExit(1)
    click.echo("Valid: the content is exactly what the deployment signed.")


@click.group()
def watermark() -> None:
    """The text watermark of the embedded engine."""


@watermark.command("detect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", default=None, help="Model whose tokenizer to use (default: the default model).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
def watermark_detect(ctx: CliContext, file: Path, model: str | None, as_json: bool) -> None:
    """Score FILE (UTF-8 text) for this deployment's watermark."""
    model = model or ctx.settings.engine.default_model
    result = ctx.services.compliance.detector(model).detect(file.read_text(encoding="utf-8"))
    if as_json:
        emit_json({"model": model, **result.to_dict()})
        return
    verdict = "watermarked" if result.detected else "no watermark shown"
    click.echo(f"{verdict}: z = {result.z:.2f}, p = {result.p_value:.3g}, "
               f"{result.green}/{result.tokens_scored} green tokens (gamma {result.gamma}, threshold z >= "
               f"{result.z_threshold})")
    if result.note:
        click.echo(f"Note: {result.note}")


# --- retention ---------------------------------------------------------------------------------
@click.group()
def retention() -> None:
    """Deletion of expired content and logs."""


@retention.command("run")
@click.option("--now", "now_", default=None, help="Pretend it is this time (ISO 8601); default now.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
def retention_run(ctx: CliContext, now_: str | None, as_json: bool) -> None:
    """Purge what every tenant's policy says has expired, and record each purge in the audit trail."""
    service = ctx.services.retention
    if service is None:
        raise JajuError("Retention has no targets configured in this deployment.")
    result = service.run(_day(now_) if now_ else datetime.now(UTC))
    if as_json:
        emit_json(result.to_dict())
        return
    table([{"tenant": p.tenant_id, "target": p.target, "method": p.method, "older_than_days": p.days,
            "deleted": p.count} for p in result.purges], ["tenant", "target", "method", "older_than_days", "deleted"])
    for tenant, reason in result.skipped.items():
        click.echo(f"skipped {tenant}: {reason}")


# --- reports -----------------------------------------------------------------------------------
_fmt = [click.option("--json", "as_json", is_flag=True, help="JSON instead of Markdown."),
        click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")]


def _formats(fn):
    for opt in reversed(_fmt):
        fn = opt(fn)
    return fn


@click.group()
def report() -> None:
    """Regulator-ready reports (Markdown or JSON)."""


@report.command("ropa")
@_formats
@pass_ctx
@friendly
def report_ropa(ctx: CliContext, as_json: bool, output: Path | None) -> None:
    """GDPR Art. 30 record of processing, from configuration and recorded usage."""
    s = ctx.services
    tenants = s.tenants.list()
    policies = {}
    for t in tenants:
        try:
            policies[t.id] = s.compliance.policy_for(t.id, t.jurisdiction, t.settings.get("packs", ()))
        except JajuError as e:
            click.echo(f"Warning: tenant {t.name}: {e}", err=True)
    settings = s.compliance.settings
    _out(reports.ropa(controller=settings.controller, purposes=settings.purposes,
                      tenants=[{"id": t.id, "name": t.name, "jurisdiction": t.jurisdiction} for t in tenants],
                      policies=policies, usage_rows=s.usage.rows(),
                      models=[asdict(m) for m in s.models.available()], generated_at=datetime.now(UTC)),
         as_json, output)


@report.command("ai-act-logs")
@click.option("--from", "start", required=True, help="First day (YYYY-MM-DD), included.")
@click.option("--to", "end", required=True, help="Last day (YYYY-MM-DD), included.")
@_formats
@pass_ctx
@friendly
def report_logs(ctx: CliContext, start: str, end: str, as_json: bool, output: Path | None) -> None:
    """AI Act Art. 12 event-log export for a period."""
    lo = _day(start)
    hi = _day(end) + (timedelta(days=1) if len(end) == 10 else timedelta(0))
    with ctx.services.db.engine.connect() as c:
        rows = c.execute(select(AuditEvent.body, AuditEvent.chain_hash)
                         .where(AuditEvent.ts >= lo, AuditEvent.ts < hi).order_by(AuditEvent.seq))
        records = [{**json.loads(body), "chain_hash": chain} for body, chain in rows]
    _out(reports.ai_act_logs(records, lo, hi, deployment={"jurisdiction": ctx.settings.jurisdiction,
                                                          "key_id": ctx.services.key.key_id},
                             generated_at=datetime.now(UTC)), as_json, output)


@report.command("notice")
@click.option("--lang", type=click.Choice(["ko", "en", "ar"]), default="ko")
@click.option("--tenant", "-t", default=None, help="A tenant's notice (default: the deployment's jurisdiction).")
@_formats
@pass_ctx
@friendly
def report_notice(ctx: CliContext, lang: str, tenant: str | None, as_json: bool, output: Path | None) -> None:
    """The user notice for this deployment: AI disclosure, data, retention, rights."""
    if tenant:
        _, pol = tenant_policy(ctx, tenant)
    else:
        pol = ctx.services.compliance.policies.resolve(ctx.settings.jurisdiction)
    controller = ctx.services.compliance.settings.controller
    _out(reports.notice(pol, lang, deployment={"name": controller.get("name", "jaju"),
                                                "contact": controller.get("contact", "")}), as_json, output)


@report.command("model-card")
@click.argument("model")
@_formats
@pass_ctx
@friendly
def report_model_card(ctx: CliContext, model: str, as_json: bool, output: Path | None) -> None:
    """Provenance, licence, intended use, limits and evaluations of MODEL."""
    found = next((m for m in ctx.services.models.available() if m.id == model), None)
    if found is None:
        raise JajuError(f"No model {model!r}. See `jaju model list`.")
    _out(reports.model_card(asdict(found), generated_at=datetime.now(UTC)), as_json, output)


# --- high-impact -------------------------------------------------------------------------------
@click.group("high-impact")
def high_impact() -> None:
    """High-impact (AI Basic Act) and high-risk (AI Act) uses: registration and checklist."""


@high_impact.command("register")
@click.option("--tenant", "-t", required=True)
@click.option("--application", "-a", default="", help="One application of the tenant (default: all of it).")
@click.option("--description", default="")
@click.option("--contact", "contacts", multiple=True, help="NAME|ROLE|E-MAIL-OR-PHONE (repeatable).")
@click.option("--evidence", "evidence", multiple=True, help="NAME=REFERENCE, e.g. risk_management_plan=doc://r1.")
@pass_ctx
@friendly
def high_impact_register(ctx: CliContext, tenant: str, application: str, description: str,
                         contacts: tuple[str, ...], evidence: tuple[str, ...]) -> None:
    """Flag a tenant or application as high-impact and record oversight contacts and evidence."""
    t = ctx.services.tenants.get(tenant)
    people = []
    for c in contacts:
        name, _, rest = c.partition("|")
        role, _, contact = rest.rpartition("|")
        people.append({"name": name, "role": role, "contact": contact})
    ev = {}
    for item in evidence:
        k, sep, v = item.partition("=")
        if not sep:
            raise JajuError(f"--evidence {item!r} must look like NAME=REFERENCE.")
        ev[k.strip()] = v.strip()
    ctx.services.compliance.high_impact.register(t.id, application, description=description,
                                                 oversight_contacts=people, evidence=ev)
    _print_checklist(ctx, t, application, False)


@high_impact.command("checklist")
@click.option("--tenant", "-t", required=True)
@click.option("--application", "-a", default="")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
def high_impact_checklist(ctx: CliContext, tenant: str, application: str, as_json: bool) -> None:
    """The risk checklist of a registration and what is missing."""
    _print_checklist(ctx, ctx.services.tenants.get(tenant), application, as_json)


def _print_checklist(ctx: CliContext, t, application: str, as_json: bool) -> None:
    compliance = ctx.services.compliance
    reg = compliance.high_impact.get(t.id, application)
    if reg is None:
        raise JajuError(f"{t.name} {application or '(whole tenant)'} is not registered as high-impact.")
    cl = checklist(reg, compliance.policies.resolve(t.jurisdiction, t.settings.get("packs", ()), True))
    if as_json:
        emit_json(cl.to_dict())
        return
    table([{"status": "ok" if i.met else "MISSING", "duty": i.duty, "evidence": i.evidence,
            "source": "; ".join(i.sources), "detail": i.detail} for i in cl.items],
          ["status", "duty", "evidence", "source", "detail"])
    click.echo(f"{len(cl.missing)} of {len(cl.items)} duties lack evidence." if cl.missing else "Complete.")


COMMANDS = (policy, provenance, watermark, retention, report, high_impact)
