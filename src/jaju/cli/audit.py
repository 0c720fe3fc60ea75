"""`jaju audit ...`: verify the chain (read-only), export a tenant's trail, check the chain's head is signed."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from jaju.audit.export import export_tenant
from jaju.audit.keys import PRIVATE_NAME, PUBLIC_NAME, DeploymentKey, load_public
from jaju.audit.verify import Report, verify_export, verify_store
from jaju.audit.witness import FileWitness
from jaju.cli.context import CliContext, friendly, pass_ctx
from jaju.errors import ConfigError
from jaju.settings import Settings
from jaju.store import Database


@click.group()
def audit() -> None:
    """The tamper-evident audit trail."""


def _finish(r: Report, what: str) -> None:
    if r.ok:
        witnessed = f", {r.witnessed} matched the witness" if r.witnessed else ""
        click.echo(f"OK: {what}: {r.events} events, {r.checkpoints} signed checkpoints{witnessed}, "
                   f"up to event {r.last_seq}.")
        for note in r.notes:
            click.echo(f"note: {note}")
        return
    click.echo(f"FAILED: {r.problem}", err=True)
    sys.exit(2)


def _deployment_public_key(settings: Settings) -> Ed25519PublicKey:
    """The deployment's public key, read (never created) from the keys directory."""
    public, private = settings.keys_dir / PUBLIC_NAME, settings.keys_dir / PRIVATE_NAME
    if public.exists():
        return _read_public(public)
    if private.exists():
        return DeploymentKey.load_or_create(settings.keys_dir).public
    raise ConfigError(f"No deployment key in {settings.keys_dir}; pass --public-key FILE (the deployment's "
                      "public key PEM).")


def _read_public(path: Path) -> Ed25519PublicKey:
    try:
        return load_public(path.read_bytes())
    except ValueError:
        raise ConfigError(f"{path} is not an Ed25519 public key in PEM form.") from None


def _open_store(settings: Settings) -> Database:
    """The store as it is: no migration, and no SQLite file created where none exists."""
    url = settings.effective_database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        raise ConfigError(f"No database at {parsed.database}; check --data-dir or JAJU_DATABASE_URL.")
    return Database(url)


@audit.command("verify")
@click.option("--file", "file_", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Verify an export file instead of the store.")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The deployment's public key (PEM); needed with --file.")
@click.option("--witness", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A witness file ([audit] witness_path): the store must match every checkpoint in it.")
@click.pass_context
@friendly
def verify(click_ctx: click.Context, file_: Path | None, public_key: Path | None, witness: Path | None) -> None:
    """Exit 0 when the trail is intact and signed to its end; otherwise name the bad events and exit 2.

    Strictly read-only: it never migrates, signs or writes anything.
    """
    if file_ is not None:
        if public_key is None:
            raise click.UsageError("--file needs --public-key (the deployment's public key PEM).")
        _finish(verify_export(file_, public_key.read_bytes()), str(file_))
        return
    settings = click_ctx.obj.settings
    db = _open_store(settings)
    keys = [_read_public(public_key)] if public_key else [_deployment_public_key(settings)]
    try:
        witnessed = list(FileWitness(witness).checkpoints()) if witness else None
    except (ValueError, UnicodeDecodeError) as e:
        db.dispose()
        click.echo(f"FAILED: {e}", err=True)
        sys.exit(2)
    try:
        report = verify_store(db, keys, witness=witnessed)
    except (OperationalError, ProgrammingError) as e:
        raise ConfigError(f"The store has no readable audit trail ({type(e.orig).__name__}); check the "
                          "database URL, or start jaju once so it sets the store up.") from None
    finally:
        db.dispose()
    _finish(report, "audit trail")


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
    pub = s.settings.keys_dir / PUBLIC_NAME
    click.echo(f"Wrote {summary['events']} events of {t.name} (chain {summary['from_seq']}..{summary['to_seq']}) "
               f"to {out}. Public key: {pub}")


@audit.command("checkpoint")
@click.option("--accept-unsigned-tail", is_flag=True,
              help="Sign a tail no checkpoint covers (left by an older jaju), recording that you did.")
@pass_ctx
@friendly
def checkpoint(ctx: CliContext, accept_unsigned_tail: bool) -> None:
    """Check that the end of the chain is signed (every commit signs its batch)."""
    seq = ctx.services.audit.checkpoint(accept_unsigned_tail=accept_unsigned_tail)
    click.echo(f"The chain is signed up to event {seq}." if seq else "The audit trail is empty.")
