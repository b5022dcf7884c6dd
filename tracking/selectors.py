"""Read paths for the newest readings: the cache first, the database behind it."""

import logging
from functools import reduce
from operator import or_

from django.db.models import Max, Q

from tracking import latest
from tracking.events import reading_from_sample
from tracking.failures import log_failure
from tracking.models import Room, TelemetrySample
from tracking.platforms import PLATFORMS

logger = logging.getLogger(__name__)

_CONDITIONS_PER_QUERY = 200


def latest_readings(rooms: list[Room]) -> list[dict]:
    """Return the newest reading of every given room on every platform it used.

    Pairs missing from the cache (expired, or Redis unreachable) are read from
    the database and put back in the cache.
    """
    rooms_by_id = {room.room_id: room for room in rooms}
    pairs = [(room_id, platform) for room_id in rooms_by_id for platform in PLATFORMS]

    try:
        found = latest.recall_many(pairs)
        cache_works = True
    except Exception:
        log_failure(logger, "latest-value cache read failed rooms=%d", len(rooms_by_id))
        found = {}
        cache_works = False

    missing_pairs = [pair for pair in pairs if pair not in found]
    if missing_pairs:
        stored = _latest_from_database(rooms_by_id, missing_pairs)
        for reading in stored:
            found[(reading["room_id"], reading["platform"])] = reading
        # Warming a cache that just failed would wait out its timeout once per
        # reading, so the readings are returned without it.
        if cache_works:
            _warm_cache(stored)

    return [found[pair] for pair in pairs if pair in found]


def latest_reading(room: Room, platform: str) -> dict | None:
    readings = latest_readings([room])
    return next((r for r in readings if r["platform"] == platform), None)


def _latest_from_database(
    rooms_by_id: dict[str, Room], pairs: list[tuple[str, str]]
) -> list[dict]:
    wanted = set(pairs)
    rooms = {rooms_by_id[room_id] for room_id, _ in pairs}
    newest = (
        TelemetrySample.objects.filter(room__in=rooms)
        .values("room_id", "room__room_id", "platform")
        .annotate(newest=Max("timestamp"))
    )
    conditions = [
        Q(room_id=row["room_id"], platform=row["platform"], timestamp=row["newest"])
        for row in newest
        if (row["room__room_id"], row["platform"]) in wanted
    ]

    # SQLite limits how deep an expression may nest, so the ORs go in chunks.
    readings = []
    for start in range(0, len(conditions), _CONDITIONS_PER_QUERY):
        chunk = conditions[start : start + _CONDITIONS_PER_QUERY]
        samples = TelemetrySample.objects.filter(reduce(or_, chunk)).select_related(
            "room"
        )
        readings.extend(reading_from_sample(sample) for sample in samples)
    return readings


def _warm_cache(readings: list[dict]) -> None:
    for reading in readings:
        try:
            latest.remember(reading)
        except Exception:
            # The first failure stops the loop, so a cache that breaks midway
            # costs one timeout, not one per reading.
            log_failure(
                logger,
                "latest-value cache warm-up failed room=%s platform=%s",
                reading["room_id"],
                reading["platform"],
            )
            return
