"""`jaju audit ...`: verify the chain, export a tenant's trail, force a checkpoint."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from jaju.audit.export import export_tenant
from jaju.audit.keys import load_public
from jaju.audit.verify import Report, verify_export, verify_store
from jaju.cli.context import CliContext, friendly, pass_ctx


@click.group()
def audit() -> None:
    """The tamper-evident audit trail."""


def _finish(r: Report, what: str) -> None:
    if r.ok:
        click.echo(f"OK: {what}: {r.events} events, {r.checkpoints} signed checkpoints, up to event {r.last_seq}.")
        for note in r.notes:
            click.echo(f"note: {note}")
        return
    click.echo(f"FAILED: {r.problem}", err=True)
    sys.exit(2)


@audit.command("verify")
@click.option("--file", "file_", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Verify an export file instead of the store.")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The deployment's public key (PEM); needed with --file.")
@click.pass_context
@friendly
def verify(click_ctx: click.Context, file_: Path | None, public_key: Path | None) -> None:
    """Exit 0 when the trail is intact; otherwise name the first bad event and exit 2."""
    if file_ is not None:
        if public_key is None:
            raise click.UsageError("--file needs --public-key (the deployment's public key PEM).")
        _finish(verify_export(file_, public_key.read_bytes()), str(file_))
        return
    ctx: CliContext = click_ctx.obj
    s = ctx.services
    keys = [s.key.public]
    if public_key is not None:
        keys = [load_public(public_key.read_bytes())]
    _finish(verify_store(s.db, keys), "audit trail")


@audit.command("export")
@click.option("--tenant", "-t", required=True)
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default: audit-TENANT.jsonl).")
@pass_ctx
@friendly
def export(ctx: CliContext, tenant: str, out: Path | None) -> None:
    """Write TENANT's trail for third-party verification (`jaju audit verify --file F --public-key K`)."""
    s = ctx.services
    t = s.tenants.get(tenant)
    out = out or Path(f"audit-{t.name}.jsonl")
    summary = export_tenant(s.audit, t.id, out)
    pub = s.settings.keys_dir / "deployment-ed25519.pub.pem"
    click.echo(f"Wrote {summary['events']} events of {t.name} (chain {summary['from_seq']}..{summary['to_seq']}) "
               f"to {out}. Public key: {pub}")


@audit.command("checkpoint")
@pass_ctx
@friendly
def checkpoint(ctx: CliContext) -> None:
    """Sign the current end of the chain now."""
    seq = ctx.services.audit.checkpoint()
    click.echo(f"Checkpoint at event {seq}." if seq else "The audit trail is empty.")
