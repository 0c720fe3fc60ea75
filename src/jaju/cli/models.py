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
    s = ctx.services
    rows = [{"name": e.name, "kind": e.kind, "backend": e.backend, "jurisdiction": s.settings.jurisdiction,
             "size": e.size, "sha256": e.sha256, "license": e.license,
             "installed": "yes" if e.installed else "no", "note": e.note, "origin": e.origin}
            for e in s.models.catalog()]
    # Models behind each jurisdiction's remote engines, with the provenance the configuration declares.
    for backend in s.sovereignty.remote:
        for m in backend.models():
            rows.append({"name": m.id, "kind": m.kind, "backend": backend.name, "jurisdiction": m.jurisdiction,
                         "size": m.size or "", "sha256": m.sha256 or "", "license": m.license,
                         "installed": "remote", "note": "", "origin": m.origin})
    if as_json:
        emit_json(rows)
    else:
        table(rows, ["name", "kind", "backend", "jurisdiction", "size", "sha256", "license", "installed"])


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
