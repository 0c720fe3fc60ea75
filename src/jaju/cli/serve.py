"""`jaju serve`: the API server with the embedded engine, ready on an empty data directory."""

from __future__ import annotations

import logging

import click
import uvicorn

from jaju.tenancy.principal import SCOPES
from jaju.app import create_app
from jaju.cli.context import CliContext, friendly, pass_ctx
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


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@pass_ctx
@friendly
def serve(ctx: CliContext, host: str | None, port: int | None) -> None:
    """Start the OpenAI-compatible API with the embedded llama.cpp engine."""
    settings = ctx.settings
    host = host or settings.host
    port = port if port is not None else settings.port
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    services = ctx.services
    services.audit.start()
    secret = bootstrap(services)
    click.echo(f"jaju: loading {settings.engine.default_model} (sha256 checked) and the embedding model...")
    services.load_models()
    if secret:
        click.echo(_welcome(secret, host, port, settings.jurisdiction))
    app = create_app(services=services)
    click.echo(f"jaju: serving on http://{host}:{port} (jurisdiction {settings.jurisdiction}, "
               f"store {services.db.dialect}).")
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level, access_log=False,
                timeout_graceful_shutdown=10)
