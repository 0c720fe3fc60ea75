"""`jaju config check`: print the effective configuration, fail clearly on bad values."""

from __future__ import annotations

import json

import click

from jaju.cli.context import CliContext, friendly, pass_ctx
from jaju.store import Database


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("check")
@pass_ctx
@friendly
def check(ctx: CliContext) -> None:
    """Validate settings (env > jaju.toml > defaults) and the database URL; print the result."""
    s = ctx.settings
    data = json.loads(s.model_dump_json())
    if s.database_url:
        data["database_url"] = Database(s.database_url).url.render_as_string(hide_password=True)
    data["effective_database_url"] = Database(s.effective_database_url).url.render_as_string(hide_password=True)
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    click.echo("configuration OK", err=True)
