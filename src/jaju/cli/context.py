"""What every CLI command shares: settings from --data-dir/--config, services built on demand."""

from __future__ import annotations

import functools
import json
import sys
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import click

from jaju.errors import JajuError
from jaju.services import Services, build_services
from jaju.settings import Settings, load_settings


@dataclass
class CliContext:
    data_dir: str | None
    config: str | None
    _settings: Settings | None = None
    _services: Services | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config, data_dir=self.data_dir)
        return self._settings

    @property
    def services(self) -> Services:
        if self._services is None:
            # The CLI appends audit events synchronously: no writer thread, nothing left queued at exit.
            self._services = build_services(self.settings, start_audit=False)
        return self._services

    def close(self) -> None:
        if self._services is not None:
            self._services.usage.flush()
            self._services.audit.close()
            self._services.db.dispose()


pass_ctx = click.make_pass_decorator(CliContext)


def friendly(fn):
    """Turn jaju's own errors into one plain sentence on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except JajuError as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(1)

    return wrapper


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _width(text: str) -> int:
    """Columns a string takes in a terminal: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def table(rows: list[dict], columns: list[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    widths = {c: max(_width(c), *(_width(str(r.get(c, ""))) for r in rows)) for c in columns}
    click.echo("  ".join(_pad(c.upper(), widths[c]) for c in columns).rstrip())
    for r in rows:
        click.echo("  ".join(_pad(str(r.get(c, "")), widths[c]) for c in columns).rstrip())
