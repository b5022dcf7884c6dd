"""Shared fixtures: real Redis and daphne processes, API clients, personas, data.

In-process tests that switch to Redis (``use_redis``) use database 0 of the
session's Redis server. The shared daphne process uses database 1, so the two
never read each other's latest-value cache or channel-layer groups.
"""

import pytest
from rest_framework.test import APIClient

from tests import factories
from tests.processes import DaphneServer, RedisServer
from tracking import latest

DAPHNE_REDIS_DB = 1


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer.start(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


def redis_settings(settings, url: str) -> None:
    """Point the cache and the channel layer of this process at ``url``."""
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": url, "socket_connect_timeout": 2}]},
        }
    }


@pytest.fixture
def use_redis(settings, redis_server):
    """Switch cache and channel layer to the real Redis server for one test."""
    redis_settings(settings, redis_server.url)
    latest.forget_all()
    yield redis_server
    latest.forget_all()


@pytest.fixture
def own_redis(settings, tmp_path):
    """A Redis server for one test alone, which the test may stop."""
    server = RedisServer.start(tmp_path)
    redis_settings(settings, server.url)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The real hasher spends a third of a second per user on purpose; tests
    # make many users and do not test the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
    server = DaphneServer.prepare(
        workdir, redis_url=redis_server.url_for(DAPHNE_REDIS_DB)
    ).start()
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


@pytest.fixture
def staff_user(db):
    return factories.make_user(staff=True, username="staff_admin")


@pytest.fixture
def other_manager(db):
    """Manager of another squad, who must not see ``squad``."""
    return factories.make_user(username="manager_sur")


@pytest.fixture
def other_room(other_manager):
    squad = factories.make_squad(managers=[other_manager], name="Sur")
    return factories.make_room(squad=squad, room_id="room_456")


@pytest.fixture
def outsider(db):
    """A logged-in user who manages no squad."""
    return factories.make_user(username="outsider")
