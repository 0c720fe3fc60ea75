"""`jaju model ...`: the catalog of models and their provenance."""

from __future__ import annotations

from pathlib import Path

import click

from jaju.cli.context import CliContext, emit_json, friendly, pass_ctx, table


@click.group()
def model() -> None:
    """List and add models."""


@model.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@friendly
def list_(ctx: CliContext, as_json: bool) -> None:
    """Name, backend, size, sha256 and licence of every model."""
    rows = [{"name": e.name, "kind": e.kind, "backend": e.backend, "size": e.size, "sha256": e.sha256,
             "license": e.license, "installed": "yes" if e.installed else "no", "note": e.note}
            for e in ctx.services.models.catalog()]
    if as_json:
        emit_json(rows)
    else:
        table(rows, ["name", "kind", "backend", "size", "sha256", "license", "installed"])


@model.command("add")
@click.argument("name")
@click.option("--gguf", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Path of the GGUF file.")
@click.option("--license", "license_", default=None, help="Licence, if the file does not say.")
@pass_ctx
@friendly
def add(ctx: CliContext, name: str, gguf: Path, license_: str | None) -> None:
    """Register a GGUF file as model NAME (hashed now, verified before every load)."""
    e = ctx.services.models.add_gguf(name, gguf, license_)
    click.echo(f"Added {e.name}: {e.kind} model, {e.size} bytes, sha256 {e.sha256}, licence {e.license}.")
