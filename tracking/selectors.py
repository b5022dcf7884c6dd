"""Read paths: rooms named by posted readings, and the newest readings.

The newest readings come from the cache first, the database behind it.
"""

import logging
import re

from django.db.models import OuterRef, Subquery

from tracking import latest
from tracking.events import reading_from_sample
from tracking.failures import log_failure
from tracking.models import Room, TelemetrySample
from tracking.platforms import PLATFORMS

logger = logging.getLogger(__name__)

# The values Room.room_id can contain: an ASCII slug of at most 64 characters.
ROOM_ID_PATTERN = re.compile(r"[-\w]{1,64}", re.ASCII)


def rooms_for_readings(items: list) -> dict[str, Room]:
    """Return the rooms that posted readings name, by room ID, in one query.

    Values that cannot be a room ID (not a string, not a slug, too long) are
    not looked up: the serializer then reports them as unknown rooms, and no
    unhashable or unencodable value reaches the database.
    """
    room_ids = {
        item["room_id"]
        for item in items
        if isinstance(item, dict)
        and isinstance(item.get("room_id"), str)
        and ROOM_ID_PATTERN.fullmatch(item["room_id"])
    }
    if not room_ids:
        return {}
    return Room.objects.select_related("squad").in_bulk(
        list(room_ids), field_name="room_id"
    )


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
    """Read the newest sample of each pair in two queries, whatever the rows.

    The first query finds, per room and platform, the primary key of the
    newest sample: each is a LIMIT 1 lookup that the unique index on (room,
    platform, timestamp) serves directly, so its cost does not grow with
    the number of stored samples, unlike a GROUP BY over all of them.
    """
    wanted = set(pairs)
    platforms = sorted({platform for _, platform in pairs})
    room_pks = {rooms_by_id[room_id].pk for room_id, _ in pairs}
    newest_pk = {
        f"newest_{platform}": Subquery(
            TelemetrySample.objects.filter(room=OuterRef("pk"), platform=platform)
            .order_by("-timestamp")
            .values("pk")[:1]
        )
        for platform in platforms
    }
    rows = (
        Room.objects.filter(pk__in=room_pks)
        .order_by()
        .annotate(**newest_pk)
        .values("room_id", *newest_pk)
    )
    sample_pks = [
        row[f"newest_{platform}"]
        for row in rows
        for platform in platforms
        if (row["room_id"], platform) in wanted
        and row[f"newest_{platform}"] is not None
    ]
    if not sample_pks:
        return []

    samples = TelemetrySample.objects.filter(pk__in=sample_pks).select_related("room")
    return [reading_from_sample(sample) for sample in samples]


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
