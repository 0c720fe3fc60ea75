"""`jaju privacy ...`: scan a file for personal data, export or erase a data subject."""

from __future__ import annotations

from pathlib import Path

import click

from jaju.cli.context import CliContext, emit_json, friendly, pass_ctx, table
from jaju.errors import JajuError


@click.group()
def privacy() -> None:
    """Personal data: detection, data-subject export and erasure."""


@privacy.command("scan")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=None, help="Minimum score (default 0.5).")
@click.option("--entity", "entities", multiple=True, help="Only these entity types (repeatable).")
@click.option("--show-values", is_flag=True, help="Print the detected values (they are personal data).")
@friendly
def scan(file: Path, as_json: bool, threshold: float | None, entities: tuple[str, ...], show_values: bool) -> None:
    """List the personal data found in FILE (UTF-8 text)."""
    from jaju.korean import KoreanAnalyzer  # noqa: PLC0415  (Kiwi loads only for this command)
    from jaju.privacy.factory import build_analyzer  # noqa: PLC0415

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise JajuError(f"{file} is not UTF-8 text ({e.reason}). Convert it to UTF-8 first.") from None
    results = build_analyzer(KoreanAnalyzer()).analyze(text, entities=entities or None, score_threshold=threshold)
    rows = []
    for r in results:
        line = text.count("\n", 0, r.start) + 1
        row = {"line": line, "start": r.start, "end": r.end, "entity_type": r.entity_type, "score": r.score}
        if show_values:
            row["text"] = text[r.start:r.end]
        rows.append(row)
    if as_json:
        emit_json(rows)
    else:
        table(rows, ["line", "start", "end", "entity_type", "score"] + (["text"] if show_values else []))


@privacy.command("export")
@click.option("--tenant", "-t", required=True, help="Tenant name or id.")
@click.argument("subject")
@pass_ctx
@friendly
def export(ctx: CliContext, tenant: str, subject: str) -> None:
    """Print everything stored about SUBJECT in TENANT as JSON."""
    s = ctx.services
    emit_json(s.subjects.export(s.tenants.get(tenant).id, subject))


@privacy.command("erase")
@click.option("--tenant", "-t", required=True, help="Tenant name or id.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.argument("subject")
@pass_ctx
@friendly
def erase(ctx: CliContext, tenant: str, subject: str, yes: bool) -> None:
    """Erase SUBJECT from TENANT everywhere and destroy the subject's key (cannot be undone)."""
    if not yes:
        click.confirm(f"Erase every record of data subject {subject!r}? This cannot be undone.", abort=True)
    s = ctx.services
    emit_json(s.subjects.erase(s.tenants.get(tenant).id, subject))
