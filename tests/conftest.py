"""Shared fixtures: real Redis and daphne processes, API clients, test data."""

import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.processes import DaphneServer, RedisServer
from tracking import latest


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer.start(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def use_redis(settings, redis_server):
    """Switch cache and channel layer to the real Redis server for one test."""
    settings.REDIS_URL = redis_server.url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_server.url,
        }
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_server.url]},
        }
    }
    latest.forget_all()
    yield redis_server
    latest.forget_all()


@pytest.fixture(autouse=True)
def empty_local_cache():
    """Start every test with no cached readings in this process."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def daphne_server(tmp_path_factory, redis_server):
    """A daphne process on Redis, with demo data (see ``parse_seed_output``)."""
    workdir = tmp_path_factory.mktemp("daphne")
    server = DaphneServer.prepare(workdir, redis_url=redis_server.url).start()
    yield server
    server.stop()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def squad_manager(db):
    return factories.make_user(username="manager_norte")


@pytest.fixture
def squad(squad_manager):
    return factories.make_squad(managers=[squad_manager], name="Norte")


@pytest.fixture
def room(squad):
    return factories.make_room(squad=squad, room_id="room_123")


@pytest.fixture
def device_key(room):
    _, key = factories.make_device()
    return key
