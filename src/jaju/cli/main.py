"""The `jaju` command: one click group per module, registered explicitly below."""

from __future__ import annotations

import sys

import click

from jaju import __version__
from jaju.cli import (audit, compliance, config, keys, knowledge, models, privacy, serve, sovereignty,
                      tenants)
from jaju.cli import eval as eval_cli
from jaju.cli.context import CliContext
from jaju.errors import JajuError

COMMANDS = (serve.serve, config.config, tenants.tenant, keys.key, models.model, audit.audit, privacy.privacy,
            knowledge.kb, sovereignty.keys, *compliance.COMMANDS, eval_cli.eval_)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="jaju")
@click.option("--data-dir", envvar="JAJU_DATA_DIR", type=click.Path(file_okay=False),
              help="Where jaju keeps its database, models and keys (default ~/.jaju).")
@click.option("--config", "config_file", envvar="JAJU_CONFIG", type=click.Path(dir_okay=False),
              help="A jaju.toml file (default: DATA_DIR/jaju.toml if present).")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, config_file: str | None) -> None:
    """jaju (자주): a sovereign AI platform, Korean first."""
    obj = CliContext(data_dir=data_dir, config=config_file)
    ctx.obj = obj
    ctx.call_on_close(obj.close)


for command in COMMANDS:
    cli.add_command(command)
tenants.tenant.add_command(sovereignty.transfer)
tenants.tenant.add_command(sovereignty.erase)
compliance.report.add_command(sovereignty.residency)


GLOBAL_OPTIONS = ("--data-dir", "--config")


def hoist_global_options(argv: list[str]) -> list[str]:
    """Let --data-dir and --config come anywhere (`jaju tenant list --data-dir X` as well as before it)."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS:
            if "=" in arg:
                front.append(arg)
            else:
                front.extend(argv[i:i + 2])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def main() -> None:
    try:
        cli(args=hoist_global_options(sys.argv[1:]), prog_name="jaju", standalone_mode=True)
    except JajuError as e:  # errors raised while closing services
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
