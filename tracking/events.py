"""Names and payloads shared by the event sender and the dashboard consumer.

Both sides build group names and event bodies here, so they cannot drift apart.
A channel-layer message ``{"type": "telemetry.update", ...}`` is handled by the
consumer method ``telemetry_update``.
"""

from datetime import datetime

TELEMETRY_UPDATE = "TELEMETRY_UPDATE"
SNAPSHOT = "SNAPSHOT"
TELEMETRY_MESSAGE_TYPE = "telemetry.update"


def squad_group(squad_id: int) -> str:
    # Channel-layer group names must be ASCII and shorter than 100 characters.
    return f"squad.{squad_id}"


def unix_seconds(moment: datetime) -> float:
    # Whole seconds stay integers in JSON so clients that post integers get
    # the same number back.
    seconds = moment.timestamp()
    return int(seconds) if seconds.is_integer() else round(seconds, 6)


def reading_from_sample(sample) -> dict:
    """Return a sample in the shape the ingest API accepts and "latest" returns."""
    return {
        "room_id": sample.room.room_id,
        "platform": sample.platform,
        "tokens_count": sample.tokens_count,
        "tips_count": sample.tips_count,
        "viewers_count": sample.viewers_count,
        "timestamp": unix_seconds(sample.timestamp),
    }


def room_data(reading: dict) -> dict:
    """Return the ``data`` object of an event for one room and platform."""
    return {
        "platform": reading["platform"],
        "tokens": reading["tokens_count"],
        "tips": reading["tips_count"],
        "viewers": reading["viewers_count"],
        "timestamp": reading["timestamp"],
    }


def telemetry_event(reading: dict, sent_at: float) -> dict:
    return {
        "event_type": TELEMETRY_UPDATE,
        "room_id": reading["room_id"],
        "data": room_data(reading),
        "timestamp": sent_at,
    }


def snapshot_event(readings: list[dict], rooms: list[dict], sent_at: float) -> dict:
    """Return the state sent on every (re)connect.

    ``rooms`` lists every room the user may see, including those with no data
    yet, so a client can draw them. ``readings`` contains the latest data.
    """
    return {
        "event_type": SNAPSHOT,
        "rooms": rooms,
        "data": [{"room_id": r["room_id"], **room_data(r)} for r in readings],
        "timestamp": sent_at,
    }
