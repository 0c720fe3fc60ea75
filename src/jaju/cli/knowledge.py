"""`jaju kb ...`: create knowledge bases, add documents with a progress bar, search, list."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from jaju.cli.context import CliContext, emit_json, friendly, pass_ctx, table
from jaju.errors import JajuError


@click.group("kb")
def kb() -> None:
    """Knowledge bases: Korean documents (HWP, HWPX, PDF, DOCX, HTML, text) for grounded answers."""


def _kb(ctx: CliContext, ref: str, tenant: str | None):
    s = ctx.services
    tenant_id = s.tenants.get(tenant).id if tenant else None
    return s.knowledge.find_kb(ref, tenant_id)


@kb.command("create")
@click.argument("name")
@click.option("--tenant", "-t", required=True, help="Tenant name or id.")
@click.option("--description", "-d", default="", help="What the knowledge base holds.")
@pass_ctx
@friendly
def create(ctx: CliContext, name: str, tenant: str, description: str) -> None:
    """Create a knowledge base NAME for a tenant."""
    s = ctx.services
    info = s.knowledge.create_kb(s.tenants.get(tenant).id, name, description)
    click.echo(f"Created knowledge base {info.name} ({info.id}).")


@kb.command("list")
@click.option("--tenant", "-t", default=None, help="Only this tenant (name or id).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_ctx
@friendly
def list_(ctx: CliContext, tenant: str | None, as_json: bool) -> None:
    """List knowledge bases (all tenants unless --tenant)."""
    s = ctx.services
    tenants = [s.tenants.get(tenant)] if tenant else s.tenants.list()
    rows = [{**k.to_dict(), "tenant": t.name} for t in tenants for k in s.knowledge.list_kbs(t.id)]
    if as_json:
        emit_json(rows)
    else:
        table(rows, ["id", "tenant", "name", "documents"])


@kb.command("add")
@click.argument("kb_ref", metavar="KB")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tenant", "-t", default=None, help="Tenant, when KB is a name several tenants use.")
@click.option("--subject", default=None, help="Data subject the documents are about (for erasure requests).")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE", help="A label for search filters.")
@pass_ctx
@friendly
def add(ctx: CliContext, kb_ref: str, files: tuple[Path, ...], tenant: str | None, subject: str | None,
        labels: tuple[str, ...]) -> None:
    """Add FILES to knowledge base KB; each file succeeds or fails on its own."""
    parsed = {}
    for item in labels:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise JajuError(f"--label {item!r} is not KEY=VALUE.")
        parsed[key] = value
    info = _kb(ctx, kb_ref, tenant)
    service = ctx.services.knowledge
    failures = []
    with click.progressbar(files, label=f"Adding to {info.name}", item_show_func=lambda p: p.name if p else "",
                           file=sys.stderr) as bar:
        for path in bar:
            [result] = service.add_documents(info.tenant_id, info.id, [(path.name, path.read_bytes())],
                                             subject=subject, labels=parsed)
            if not result.ok:
                failures.append(result)
    click.echo(f"Added {len(files) - len(failures)} of {len(files)} files to {info.name}.")
    for f in failures:
        click.echo(f"  failed: {f.error}", err=True)
    if failures:
        sys.exit(1)


@kb.command("search")
@click.argument("kb_ref", metavar="KB")
@click.argument("query")
@click.option("--tenant", "-t", default=None, help="Tenant, when KB is a name several tenants use.")
@click.option("--top-k", "-k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "dense"]), default="hybrid", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON hits.")
@pass_ctx
@friendly
def search(ctx: CliContext, kb_ref: str, query: str, tenant: str | None, top_k: int, mode: str,
           as_json: bool) -> None:
    """Search knowledge base KB for QUERY (Korean works with or without particles and spaces)."""
    info = _kb(ctx, kb_ref, tenant)
    hits = ctx.services.knowledge.search(info.tenant_id, [info.id], query, top_k=top_k, mode=mode)
    if as_json:
        emit_json([h.to_dict() for h in hits])
        return
    if not hits:
        click.echo("(no matches)")
    for n, h in enumerate(hits, start=1):
        click.echo(f"[{n}] {h.label()}  score={h.score:.4f}  chars {h.start}-{h.end}")
        click.echo("    " + " ".join(h.text.split())[:300])


@kb.command("docs")
@click.argument("kb_ref", metavar="KB")
@click.option("--tenant", "-t", default=None)
@pass_ctx
@friendly
def docs(ctx: CliContext, kb_ref: str, tenant: str | None) -> None:
    """List the documents in KB."""
    info = _kb(ctx, kb_ref, tenant)
    rows = ctx.services.knowledge.list_documents(info.tenant_id, info.id)
    table(rows, ["id", "filename", "format", "chunks", "title"])


@kb.command("delete")
@click.argument("kb_ref", metavar="KB")
@click.option("--tenant", "-t", default=None)
@click.confirmation_option(prompt="Delete the knowledge base and all its documents?")
@pass_ctx
@friendly
def delete(ctx: CliContext, kb_ref: str, tenant: str | None) -> None:
    """Delete KB with its documents and index."""
    info = _kb(ctx, kb_ref, tenant)
    ctx.services.knowledge.delete_kb(info.tenant_id, info.id)
    click.echo(f"Deleted knowledge base {info.name}.")
