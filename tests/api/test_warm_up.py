"""A serving process builds Kiwi and the PII recognizers at start-up, not on its first chat request,
and keeps what it built out of the garbage collector's full passes."""

from __future__ import annotations

import gc
import weakref

import pytest

from jaju.app import create_app
from jaju.services import build_services
from tests.support import close_services, make_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def fresh(tmp_path):
    gc.unfreeze()  # what an earlier test froze in this process
    services = build_services(make_settings(tmp_path / "data"))
    yield services
    close_services(services)
    gc.unfreeze()  # the test process goes on; its later garbage must stay collectable


async def test_warm_up_builds_what_every_chat_request_needs(fresh):
    app = create_app(services=fresh, load_models=False, warm_up=True)
    async with app.router.lifespan_context(app):
        assert fresh.lazy_korean.built and fresh.lazy_privacy.built


async def test_without_warm_up_nothing_heavy_is_built(fresh):
    app = create_app(services=fresh, load_models=False)
    async with app.router.lifespan_context(app):
        assert not fresh.lazy_korean.built and not fresh.lazy_privacy.built


async def test_a_serving_process_keeps_its_start_up_objects_out_of_full_collections(fresh):
    tracked = len(gc.get_objects())  # what a full pass walks
    app = create_app(services=fresh, load_models=False, warm_up=True)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > tracked // 2
        # A full pass now walks only what was made since start-up, not the routes, schemas and recognizers.
        assert len(gc.get_objects()) < tracked // 10


async def test_without_warm_up_nothing_is_frozen(fresh):
    app = create_app(services=fresh, load_models=False)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() == 0


def test_garbage_left_by_start_up_is_collected_before_the_rest_is_frozen():
    from jaju.heap import freeze_startup_objects

    class Node:
        pass

    gc.unfreeze()
    try:
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector can free it
        gone = weakref.ref(a)
        del a, b
        assert freeze_startup_objects() > 0
        assert gone() is None  # freed, not frozen for the life of the process
    finally:
        gc.unfreeze()
