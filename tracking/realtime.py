"""Publish committed samples to the latest-value cache and to God Mode viewers.

The ``post_save`` receiver calls ``publish_after_commit``; the work runs only
once the transaction commits, so no viewer ever sees a sample that was rolled
back. The database row is the record: a failure here is logged and swallowed,
and the ingest request still succeeds.
"""

import asyncio
import json
import logging
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from tracking import latest
from tracking.events import (
    TELEMETRY_MESSAGE_TYPE,
    reading_from_sample,
    squad_group,
    telemetry_event,
)
from tracking.failures import log_failure

logger = logging.getLogger(__name__)

# Seconds one broadcast may take. channels_redis retries a lost connection with
# backoff for several seconds, and the ingest request waits for the broadcast,
# so without this bound a stopped Redis would hold every request that long.
BROADCAST_TIMEOUT = 2.0


def publish_after_commit(sample) -> None:
    reading = reading_from_sample(sample)
    squad_id = sample.room.squad_id
    transaction.on_commit(lambda: publish(reading, squad_id=squad_id))


def publish(reading: dict, *, squad_id: int) -> bool:
    """Cache ``reading`` and send it to the squad's viewers if it is the newest.

    Returns whether the event was sent. A late, older reading is stored in the
    database but neither cached nor sent, so screens never step back in time.
    """
    try:
        is_newest = latest.remember(reading)
    except Exception:
        # Without the cache we cannot tell whether this reading is the newest,
        # so it is still sent: a live screen matters more than a rare stale flash.
        log_failure(
            logger,
            "latest-value cache update failed room=%s platform=%s",
            reading["room_id"],
            reading["platform"],
        )
        is_newest = True

    if not is_newest:
        return False

    # The event is encoded once here, not once per viewer.
    text = json.dumps(telemetry_event(reading, sent_at=time.time()))
    try:
        async_to_sync(_send_with_timeout)(
            squad_group(squad_id), {"type": TELEMETRY_MESSAGE_TYPE, "text": text}
        )
    except Exception:
        log_failure(
            logger,
            "telemetry broadcast failed room=%s platform=%s",
            reading["room_id"],
            reading["platform"],
        )
        return False
    return True


async def _send_with_timeout(group: str, message: dict) -> None:
    layer = get_channel_layer()
    await asyncio.wait_for(layer.group_send(group, message), BROADCAST_TIMEOUT)
