"""`jaju serve`: API workers and the embedded engine process, ready on an empty data directory."""

from __future__ import annotations

import os

import click

from jaju import logs
from jaju.cli.context import CliContext, friendly, pass_ctx
from jaju.engine.ipc.supervisor import Supervisor
from jaju.tenancy.principal import SCOPES
from jaju.services import Services
from jaju.tenancy.tenants import TenantError

BOOTSTRAP_TENANT = "default"


def bootstrap(services: Services) -> str | None:
    """On an empty store, create the default tenant and an admin key; return the key's secret."""
    if services.tenants.list():
        return None
    try:
        tenant = services.tenants.create(BOOTSTRAP_TENANT, services.settings.jurisdiction, actor="bootstrap")
    except TenantError:  # another replica on the same database bootstrapped first
        return None
    _, secret = services.keys.create(tenant.id, list(SCOPES), name="bootstrap admin", actor="bootstrap")
    return secret


def _welcome(secret: str, host: str, port: int, jurisdiction: str) -> str:
    base = f"http://{host}:{port}/v1"
    return f"""
jaju: first start on an empty data directory. Created tenant '{BOOTSTRAP_TENANT}' ({jurisdiction}) and an admin key.
The key is shown only now; store it safely:

    export OPENAI_API_KEY={secret}
    export OPENAI_BASE_URL={base}

Try it:
    curl {base}/chat/completions -H "Authorization: Bearer $OPENAI_API_KEY" \\
      -H "Content-Type: application/json" \\
      -d '{{"model": "qwen2.5-coder-0.5b-instruct", "messages": [{{"role": "user", "content": "대한민국의 수도는 어디인가요?"}}]}}'
"""


def _default_workers() -> int:
    return max(1, os.cpu_count() or 1)


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--workers", type=click.IntRange(1, 256), default=None, envvar="JAJU_WORKERS",
              help="API worker processes on the one port (default: the machine's cores). The llama.cpp engine "
                   "runs in its own process, shared by all workers.")
@pass_ctx
@friendly
def serve(ctx: CliContext, host: str | None, port: int | None, workers: int | None) -> None:
    """Start the OpenAI-compatible API: N workers and the embedded llama.cpp engine process."""
    settings = ctx.settings
    host = host or settings.host
    port = port if port is not None else settings.port
    workers = workers or _default_workers()
    logs.configure(settings.log_level)
    # Migrations and the first-start bootstrap run once, here, before any worker opens the store.
    secret = bootstrap(ctx.services)
    store = ctx.services.db.dialect
    ctx.close()
    click.echo(f"jaju: loading {settings.engine.default_model} (sha256 checked) and the embedding model "
               "in the engine process...")
    supervisor = Supervisor(ctx.config, settings.data_dir, host, port, workers, settings.server.metrics_bind)
    supervisor.on_ready = lambda: _ready(secret, host, port, settings.jurisdiction, store, workers)
    supervisor.serve()


def _ready(secret: str | None, host: str, port: int, jurisdiction: str, store: str, workers: int) -> None:
    if secret:
        click.echo(_welcome(secret, host, port, jurisdiction))
    click.echo(f"jaju: serving on http://{host}:{port} with {workers} worker(s) (jurisdiction {jurisdiction}, "
               f"store {store}).")
