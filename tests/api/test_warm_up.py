"""A serving process builds Kiwi and the PII recognizers at start-up, not on its first chat request."""

from __future__ import annotations

import pytest

from jaju.app import create_app
from jaju.services import build_services
from tests.support import close_services, make_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def fresh(tmp_path):
    services = build_services(make_settings(tmp_path / "data"))
    yield services
    close_services(services)


async def test_warm_up_builds_what_every_chat_request_needs(fresh):
    app = create_app(services=fresh, load_models=False, warm_up=True)
    async with app.router.lifespan_context(app):
        assert fresh.lazy_korean.built and fresh.lazy_privacy.built


async def test_without_warm_up_nothing_heavy_is_built(fresh):
    app = create_app(services=fresh, load_models=False)
    async with app.router.lifespan_context(app):
        assert not fresh.lazy_korean.built and not fresh.lazy_privacy.built
