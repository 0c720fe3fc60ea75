"""`jaju eval ...`: score a model on Korean multiple-choice sets the user supplies, and compare runs."""

from __future__ import annotations

import os
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from jaju.cli.context import CliContext, friendly, pass_ctx, table
from jaju.engine.catalog import PACKAGED, assemble, verify
from jaju.errors import ModelError
from jaju.evaluation import compare_rows, load_questions, run_eval, write_report
from jaju.evaluation.loglik import LoglikScorer
from jaju.evaluation.remote import GenerationScorer
from jaju.evaluation.report import read_report


@click.group("eval")
def eval_() -> None:
    """Evaluate models on Korean benchmarks (KMMLU, HAE-RAE, CLIcK files you supply)."""


def model_path(ctx: CliContext, name: str) -> Path:
    """The GGUF file behind a model name (built-in or operator-added), or a GGUF path given directly."""
    given = Path(name).expanduser()
    if given.suffix == ".gguf" and given.is_file():
        return given
    packaged = next((m for m in PACKAGED if m.name == name), None)
    if packaged is not None:
        path = assemble(packaged, ctx.settings.models_dir)
        verify(path, packaged.sha256, name)
        return path
    from jaju.store import Database
    from jaju.store.tables import ModelEntry

    db = Database(ctx.settings.effective_database_url)
    try:
        with db.sessions() as s:
            row = s.scalars(select(ModelEntry).where(ModelEntry.name == name)).first()
    except OperationalError:  # a data directory jaju never set up: no operator-added models either
        row = None
    finally:
        db.dispose()
    if row is None:
        raise ModelError(f"No local model named {name}; `jaju model list` shows them, or give --base-url for a "
                         "remote engine.")
    path = Path(row.path)
    verify(path, row.sha256, name)
    return path


@eval_.command("run")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", "-m", required=True, help="A local model name or GGUF path (log-likelihood), or a "
                                                   "remote model with --base-url (generation).")
@click.option("--limit", type=click.IntRange(min=1), help="Score only the first N questions.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the JSON report here (default: eval-<model>-<file>.json).")
@click.option("--base-url", help="An OpenAI-compatible server (…/v1): score by generation there.")
@click.option("--api-key", envvar="JAJU_EVAL_API_KEY", help="Bearer key for --base-url.")
@click.option("--threads", type=click.IntRange(min=1), default=lambda: max(1, os.cpu_count() or 1))
@click.option("--context", "n_ctx", type=click.IntRange(min=256), default=2048, help="Scorer context tokens.")
@pass_ctx
@friendly
def run(ctx: CliContext, file: Path, model: str, limit: int | None, output: Path | None, base_url: str | None,
        api_key: str | None, threads: int, n_ctx: int) -> None:
    """Score MODEL on FILE: accuracy overall and per category, and a JSON report."""
    questions = load_questions(file)  # every row checked before the model loads
    if limit:
        questions = questions[:limit]
    output = output or Path(f"eval-{Path(model).stem}-{file.stem}.json")
    if base_url:
        scorer = GenerationScorer(base_url, model, api_key)
    else:
        scorer = LoglikScorer(str(model_path(ctx, model)), threads=threads, n_ctx=n_ctx)
    with scorer, click.progressbar(length=len(questions), label=f"{file.name} on {model}",
                                         file=click.get_text_stream("stderr")) as bar:
        report = run_eval(questions, scorer, model=model, source=str(file), on_item=lambda: bar.update(1))
    write_report(report, output)
    rows = [{"category": cat, "questions": c["questions"], "accuracy": f"{c['accuracy']:.1%}"}
            for cat, c in report["categories"].items()]
    rows.append({"category": "overall", "questions": report["questions"], "accuracy": f"{report['accuracy']:.1%}"})
    table(rows, ["category", "questions", "accuracy"])
    click.echo(f"Report: {output} ({report['method']}, {report['seconds']} s)")


@eval_.command("compare")
@click.argument("first", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("second", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly
def compare(first: Path, second: Path) -> None:
    """Two reports side by side, per category."""
    a, b = read_report(first), read_report(second)
    click.echo(f"A: {a['model']} on {a.get('source', '?')} ({a.get('method', '?')})")
    click.echo(f"B: {b['model']} on {b.get('source', '?')} ({b.get('method', '?')})")
    rows = [{"category": cat, "A": ta, "B": tb, "B - A": d} for cat, ta, tb, d in compare_rows(a, b)]
    table(rows, ["category", "A", "B", "B - A"])
