"""`jaju key ...`: issue, list and revoke API keys."""

from __future__ import annotations

from dataclasses import asdict

import click

from jaju.tenancy.principal import SCOPES
from jaju.cli.context import CliContext, emit_json, friendly, pass_ctx, table


@click.group()
def key() -> None:
    """Manage API keys (only a hash of each secret is stored)."""


@key.command("create")
@click.option("--tenant", "-t", required=True, help="Tenant name or id.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES),
              help="Repeat for several; default: inference, privacy, knowledge.")
@click.option("--name", default="", help="A label for the key.")
@pass_ctx
@friendly
def create(ctx: CliContext, tenant: str, scopes: tuple[str, ...], name: str) -> None:
    """Issue a key; the secret is printed once, on the last line."""
    view, secret = ctx.services.keys.create(tenant, list(scopes) or None, name, actor="cli")
    click.echo(f"Created key {view.id} for tenant {view.tenant_id} with scopes {', '.join(view.scopes)}.")
    click.echo("The secret below is shown only now; store it safely.")
    click.echo(secret)


@key.command("revoke")
@click.argument("key_id")
@pass_ctx
@friendly
def revoke(ctx: CliContext, key_id: str) -> None:
    """Revoke KEY_ID; it stops working on the next request."""
    view = ctx.services.keys.revoke(key_id, actor="cli")
    click.echo(f"Revoked key {view.id} at {view.revoked_at}.")


@key.command("list")
@click.option("--tenant", "-t", default=None, help="Only this tenant's keys.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
def list_(ctx: CliContext, tenant: str | None, as_json: bool) -> None:
    """List keys (never their secrets)."""
    rows = [{**asdict(k), "scopes": ",".join(k.scopes), "revoked_at": k.revoked_at or ""}
            for k in ctx.services.keys.list(tenant)]
    if as_json:
        emit_json(rows)
    else:
        table(rows, ["id", "tenant_id", "name", "scopes", "created_at", "revoked_at"])
