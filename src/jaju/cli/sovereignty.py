"""`jaju tenant transfer ...`, `jaju tenant erase`, `jaju keys rotate`, `jaju report residency`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import click

from jaju.cli.context import CliContext, emit_json, friendly, pass_ctx, table
from jaju.errors import JajuError
from jaju.sovereignty.erasure import erase_tenant
from jaju.sovereignty.factory import Sovereignty
from jaju.sovereignty.report import build_report, render_json, render_markdown, tenant_records


def _sovereignty(ctx: CliContext) -> Sovereignty:
    return ctx.services.sovereignty


@click.group()
def transfer() -> None:
    """Legal bases for processing a tenant's data in another jurisdiction."""


@transfer.command("add")
@click.argument("tenant")
@click.option("--to", "to", required=True, help="Jurisdiction the data may go to, e.g. EU.")
@click.option("--basis", required=True, help='The legal basis, e.g. "PIPA 28-8(1)1 consent".')
@click.option("--evidence", default="", help="Where the proof is kept (a document or ticket reference).")
@pass_ctx
@friendly
def transfer_add(ctx: CliContext, tenant: str, to: str, basis: str, evidence: str) -> None:
    """Record a basis for TENANT's data to be processed in another jurisdiction."""
    t = ctx.services.tenants.get(tenant)
    v = _sovereignty(ctx).transfers.add(t.id, to, basis, evidence, actor="cli")
    click.echo(f"Recorded: {t.name} ({t.jurisdiction}) -> {v.to} on the basis \"{v.basis}\".")


@transfer.command("remove")
@click.argument("tenant")
@click.option("--to", "to", required=True, help="Jurisdiction whose basis to remove.")
@pass_ctx
@friendly
def transfer_remove(ctx: CliContext, tenant: str, to: str) -> None:
    """Remove a recorded basis; requests stop going there at once."""
    t = ctx.services.tenants.get(tenant)
    _sovereignty(ctx).transfers.remove(t.id, to, actor="cli")
    click.echo(f"Removed: {t.name} may no longer be processed in {to.upper()}.")


@transfer.command("list")
@click.argument("tenant")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@friendly
def transfer_list(ctx: CliContext, tenant: str, as_json: bool) -> None:
    """List TENANT's recorded transfer bases."""
    t = ctx.services.tenants.get(tenant)
    rows = [asdict(v) for v in _sovereignty(ctx).transfers.list(t.id)]
    if as_json:
        emit_json(rows)
    else:
        table(rows, ["to", "basis", "evidence", "created_at"])


@click.command("erase")
@click.argument("tenant")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
@friendly
def erase(ctx: CliContext, tenant: str, yes: bool) -> None:
    """Erase TENANT by destroying its keys: its stored content can never be read again."""
    t = ctx.services.tenants.get(tenant)
    if not yes:
        click.confirm(f"Destroy every key of {t.name} ({t.id})? This cannot be undone", abort=True)
    s = ctx.services
    erase_tenant(s.tenants, s.keyring, s.audit, t.id, actor="cli")
    click.echo(f"Erased {t.name}: its keys are destroyed and the erasure is in the audit trail.")


@click.group()
def keys() -> None:
    """Key-encryption keys of each jurisdiction."""


@keys.command("rotate")
@click.option("--jurisdiction", "-j", default=None, help="Jurisdiction whose KEK to rotate (default: all).")
@pass_ctx
@friendly
def rotate(ctx: CliContext, jurisdiction: str | None) -> None:
    """Make a new KEK version current and re-wrap data keys under it (no downtime)."""
    codes = [jurisdiction.upper()] if jurisdiction else sorted(_sovereignty(ctx).jurisdictions.codes)
    for code in codes:
        n = ctx.services.keyring.rotate(code)
        click.echo(f"{code}: {n} data keys re-wrapped under a new key-encryption key.")


@click.group()
def report() -> None:
    """Reports built from the audit trail."""


@report.command("residency")
@click.option("--tenant", "tenant", required=True, help="Tenant id or name.")
@click.option("--since", default=None, help="Start date, YYYY-MM-DD (UTC).")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@pass_ctx
@friendly
def residency(ctx: CliContext, tenant: str, since: str | None, fmt: str) -> None:
    """Where each of TENANT's requests was processed and where its data is stored."""
    try:
        start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
    except ValueError:
        raise JajuError(f"--since {since!r} is not a date; use YYYY-MM-DD.") from None
    s = ctx.services
    t = s.tenants.get(tenant)
    s.audit.flush()
    try:
        db = s.stores.for_tenant(t.id)  # where this tenant's content actually goes
    except JajuError as e:
        raise JajuError(f"{t.name} has no permitted store: {e}") from None
    # A declared store for the tenant's jurisdiction, else the main store (where its packs allow that).
    where = t.jurisdiction if t.jurisdiction in s.stores.by_jurisdiction else s.stores.main_jurisdiction
    storage = {"jurisdiction": where, "store": db.url.render_as_string(hide_password=True),
               "encryption": "AES-256-GCM, data keys wrapped by the jurisdiction's KEK"}
    data = build_report(tenant_records(s.db, t.id, start), tenant_id=t.id, home=t.jurisdiction, storage=storage,
                        since=start)
    click.echo(render_json(data) if fmt == "json" else render_markdown(data), nl=False)
