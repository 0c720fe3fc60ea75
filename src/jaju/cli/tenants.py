"""`jaju tenant ...`: create and list tenants."""

from __future__ import annotations

from dataclasses import asdict

import click

from jaju.cli.context import CliContext, emit_json, friendly, pass_ctx, table


@click.group()
def tenant() -> None:
    """Manage tenants (each belongs to a jurisdiction)."""


@tenant.command("create")
@click.argument("name")
@click.option("--jurisdiction", "-j", required=True, help="Home jurisdiction, e.g. KR, EU, SA.")
@pass_ctx
@friendly
def create(ctx: CliContext, name: str, jurisdiction: str) -> None:
    """Create tenant NAME."""
    t = ctx.services.tenants.create(name, jurisdiction, actor="cli")
    click.echo(f"Created tenant {t.name} ({t.id}) in {t.jurisdiction}.")


@tenant.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
@friendly
def list_(ctx: CliContext, as_json: bool) -> None:
    """List tenants."""
    rows = [asdict(t) for t in ctx.services.tenants.list()]
    if as_json:
        emit_json(rows)
    else:
        table(rows, ["id", "name", "jurisdiction", "status", "created_at"])
