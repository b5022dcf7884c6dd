"""The newest reading per room and platform, on the local cache and on Redis."""

import logging
import os
import signal
import time

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.factories import make_sample
from tracking import latest, selectors

NOW = int(time.time())


@pytest.fixture(params=["local", "redis"])
def backend(request) -> str:
    """Run a test once on the local-memory cache and once on the real Redis."""
    if request.param == "redis":
        request.getfixturevalue("use_redis")
    return request.param


def stored(room_id: str = "room_123", platform: str = "chaturbate") -> dict | None:
    return latest.recall_many([(room_id, platform)]).get((room_id, platform))


def a_reading(timestamp: float, tokens: int, room_id: str = "room_123") -> dict:
    return {
        "room_id": room_id,
        "platform": "chaturbate",
        "tokens_count": tokens,
        "tips_count": 1,
        "viewers_count": 2,
        "timestamp": timestamp,
    }


def test_first_reading_is_stored(backend):
    assert latest.remember(a_reading(NOW, 100)) is True

    assert stored() == a_reading(NOW, 100)


def test_newer_reading_replaces(backend):
    latest.remember(a_reading(NOW - 10, 100))

    assert latest.remember(a_reading(NOW, 200)) is True
    assert stored()["tokens_count"] == 200


def test_older_reading_never_replaces(backend):
    latest.remember(a_reading(NOW, 200))

    assert latest.remember(a_reading(NOW - 10, 100)) is False
    assert stored()["tokens_count"] == 200


def test_reading_of_the_same_time_does_not_replace(backend):
    latest.remember(a_reading(NOW, 200))

    assert latest.remember(a_reading(NOW, 300)) is False
    assert stored()["tokens_count"] == 200


def test_fractions_of_a_second_count(backend):
    latest.remember(a_reading(NOW + 0.25, 200))

    assert latest.remember(a_reading(NOW + 0.5, 300)) is True
    assert latest.remember(a_reading(NOW, 100)) is False
    assert stored()["tokens_count"] == 300


def test_rooms_and_platforms_are_kept_apart(backend):
    latest.remember(a_reading(NOW, 100))
    latest.remember(a_reading(NOW - 50, 7, room_id="room_9"))
    latest.remember({**a_reading(NOW - 50, 8), "platform": "camsoda"})

    found = latest.recall_many(
        [
            ("room_123", "chaturbate"),
            ("room_9", "chaturbate"),
            ("room_123", "camsoda"),
            ("room_123", "stripchat"),
        ]
    )

    assert {pair: value["tokens_count"] for pair, value in found.items()} == {
        ("room_123", "chaturbate"): 100,
        ("room_9", "chaturbate"): 7,
        ("room_123", "camsoda"): 8,
    }


def test_reading_expires_after_its_ttl(backend, settings):
    settings.LATEST_SAMPLE_TTL = 1
    latest.remember(a_reading(NOW, 100))
    assert stored() is not None

    deadline = time.monotonic() + 5
    while stored() is not None and time.monotonic() < deadline:
        time.sleep(0.1)

    assert stored() is None


def test_redis_keeps_a_reading_for_an_hour(use_redis):
    latest.remember(a_reading(NOW, 100))

    client = redis.Redis.from_url(use_redis.url)
    ttl = client.ttl(latest.cache_key("room_123", "chaturbate"))
    assert 3590 <= ttl <= 3600


def test_local_cache_keeps_a_reading_for_an_hour():
    from django.core.cache import cache

    latest.remember(a_reading(NOW, 100))

    key = cache.make_key(latest.cache_key("room_123", "chaturbate"))
    assert 3590 <= cache._expire_info[key] - time.time() <= 3600


def test_forget_all_empties_the_cache(backend):
    latest.remember(a_reading(NOW, 100))

    latest.forget_all()

    assert stored() is None


# Reading through the selector: cache first, database behind it


@pytest.mark.django_db
def test_selector_reads_the_cache_first(backend, room):
    make_sample(room, at=NOW - 10, tokens=150)
    latest.remember(a_reading(NOW - 10, 777))

    assert selectors.latest_reading(room, "chaturbate")["tokens_count"] == 777


@pytest.mark.django_db
def test_selector_falls_back_to_database(backend, room):
    make_sample(room, at=NOW - 20, tokens=100)
    make_sample(room, at=NOW - 10, tokens=150)
    make_sample(room, at=NOW - 5, tokens=50, platform="stripchat")
    assert stored() is None

    readings = selectors.latest_readings([room])

    assert {r["platform"]: r["tokens_count"] for r in readings} == {
        "chaturbate": 150,
        "stripchat": 50,
    }
    assert stored()["tokens_count"] == 150


@pytest.mark.django_db
def test_selector_mixes_cached_and_stored_pairs(backend, room):
    make_sample(room, at=NOW - 10, tokens=150)
    make_sample(room, at=NOW - 10, tokens=60, platform="camsoda")
    latest.remember(a_reading(NOW - 10, 777))

    readings = selectors.latest_readings([room])

    assert {r["platform"]: r["tokens_count"] for r in readings} == {
        "chaturbate": 777,
        "camsoda": 60,
    }


@pytest.mark.django_db
def test_selector_reads_the_database_when_redis_is_down(own_redis, room, caplog):
    make_sample(room, at=NOW - 10, tokens=150)
    own_redis.stop()

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="tracking"):
        reading = selectors.latest_reading(room, "chaturbate")

    assert reading["tokens_count"] == 150
    assert time.monotonic() - started < 5
    assert "latest-value cache read failed rooms=1" in caplog.text


@pytest.mark.django_db
def test_selector_does_not_wait_on_a_frozen_redis(own_redis, squad):
    rooms = [factories.make_room(squad=squad) for _ in range(4)]
    for room in rooms:
        for platform in ("chaturbate", "stripchat", "camsoda"):
            make_sample(room, at=NOW - 10, tokens=5, platform=platform)
    os.kill(own_redis.process.pid, signal.SIGSTOP)

    try:
        started = time.monotonic()
        readings = selectors.latest_readings(rooms)
        elapsed = time.monotonic() - started
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)

    assert len(readings) == 12
    # One read timeout (2 s), not one per reading.
    assert elapsed < 4, f"the snapshot waited {elapsed:.1f} s for a frozen Redis"


@pytest.mark.django_db
def test_selector_handles_many_rooms(backend, squad):
    rooms = [factories.make_room(squad=squad) for _ in range(120)]
    for number, room in enumerate(rooms):
        make_sample(room, at=NOW - 10, tokens=number)
        make_sample(room, at=NOW - 10, tokens=number, platform="stripchat")

    readings = selectors.latest_readings(rooms)

    assert len(readings) == 240
    assert sorted(
        r["tokens_count"] for r in readings if r["platform"] == "stripchat"
    ) == list(range(120))


@pytest.mark.django_db
def test_selector_ignores_older_rows_stored_later(room):
    make_sample(room, at=NOW - 10, tokens=150)
    # A late retry of an older reading gets a higher primary key.
    make_sample(room, at=NOW - 100, tokens=5)
    make_sample(room, at=NOW - 50, tokens=9, platform="camsoda")
    make_sample(room, at=NOW - 500, tokens=1, platform="camsoda")

    readings = selectors.latest_readings([room])

    assert {r["platform"]: r["tokens_count"] for r in readings} == {
        "chaturbate": 150,
        "camsoda": 9,
    }


@pytest.mark.django_db
def test_selector_leaves_out_pairs_without_data(squad):
    quiet = factories.make_room(squad=squad)
    busy = factories.make_room(squad=squad)
    make_sample(busy, at=NOW - 10, tokens=7, platform="stripchat")

    readings = selectors.latest_readings([quiet, busy])

    assert [(r["room_id"], r["platform"]) for r in readings] == [
        (busy.room_id, "stripchat")
    ]


@pytest.mark.django_db
def test_selector_query_count_does_not_grow_with_rooms(squad):
    def database_queries(room_count: int) -> list[str]:
        rooms = [factories.make_room(squad=squad) for _ in range(room_count)]
        for number, room in enumerate(rooms):
            make_sample(room, at=NOW - 10 - number, tokens=number)
            make_sample(room, at=NOW - 20 - number, tokens=number)
        latest.forget_all()
        with CaptureQueriesContext(connection) as captured:
            readings = selectors.latest_readings(rooms)
        assert len(readings) == room_count
        return [query["sql"] for query in captured.captured_queries]

    few = database_queries(2)
    many = database_queries(40)

    assert len(few) == len(many)
    assert len(many) <= 2
    assert not [sql for sql in few + many if "GROUP BY" in sql.upper()]
