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


@tenant.command("quota")
@click.argument("name")
@click.option("--monthly-tokens", type=click.IntRange(min=0), required=True,
              help="Tokens per calendar month (UTC); 0 removes the cap.")
@pass_ctx
@friendly
def quota(ctx: CliContext, name: str, monthly_tokens: int) -> None:
    """Cap the tokens tenant NAME may use per month (prompt + completion, all replicas together)."""
    t = ctx.services.tenants.set_quota(name, monthly_tokens, actor="cli")
    used = ctx.services.usage.month_tokens(t.id)
    cap = f"{monthly_tokens:,} tokens a month" if monthly_tokens else "no cap"
    click.echo(f"{t.name}: {cap}; {used:,} used this month.")
