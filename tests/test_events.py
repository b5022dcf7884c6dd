"""TELEMETRY_UPDATE events: sent after commit, to the room's squad group only."""

import asyncio
import json
import logging
import os
import signal
import time

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from tests import factories
from tests.factories import make_sample, reading
from tracking.events import squad_group
from tracking.models import TelemetrySample

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/tracking/telemetry"
NOW = int(time.time())
QUIET_SECONDS = 0.5


@pytest.fixture(params=["memory", "redis"])
def layer(request):
    """The channel layer, once in memory and once on the real Redis."""
    if request.param == "redis":
        request.getfixturevalue("use_redis")
    return get_channel_layer()


@pytest.fixture
def device_api(api, device_key):
    api.credentials(HTTP_AUTHORIZATION=f"Device {device_key}")
    return api


async def listen(layer, squad) -> str:
    """Add a fresh test channel to the squad's group and return its name."""
    channel = await layer.new_channel()
    await layer.group_add(squad_group(squad.pk), channel)
    return channel


async def next_event(layer, channel: str, timeout: float = 3) -> dict:
    message = await asyncio.wait_for(layer.receive(channel), timeout)
    assert message["type"] == "telemetry.update"
    return json.loads(message["text"])


async def assert_quiet(layer, channel: str) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(channel), QUIET_SECONDS)


async def post(client, body):
    return await sync_to_async(client.post)(URL, body, format="json")


async def test_event_reaches_the_squad_group_after_commit(
    layer, device_api, room, other_room
):
    channel = await listen(layer, room.squad)
    other_channel = await listen(layer, other_room.squad)
    body = reading(room, tokens_count=1540, tips_count=13, viewers_count=51)

    response = await post(device_api, body)

    assert response.status_code == 201
    event = await next_event(layer, channel)
    assert event["event_type"] == "TELEMETRY_UPDATE"
    assert event["room_id"] == room.room_id
    assert event["data"] == {
        "platform": "chaturbate",
        "tokens": 1540,
        "tips": 13,
        "viewers": 51,
        "timestamp": body["timestamp"],
    }
    assert abs(event["timestamp"] - time.time()) < 5
    await assert_quiet(layer, other_channel)


async def test_no_event_for_a_rolled_back_transaction(layer, room):
    channel = await listen(layer, room.squad)

    @sync_to_async
    def save_then_roll_back():
        with transaction.atomic():
            make_sample(room, at=NOW, tokens=5)
            transaction.set_rollback(True)

    await save_then_roll_back()

    await assert_quiet(layer, channel)
    assert not await TelemetrySample.objects.aexists()

    # The same save, committed, is sent: the silence above was the rollback.
    await sync_to_async(make_sample)(room, at=NOW, tokens=6)
    assert (await next_event(layer, channel))["data"]["tokens"] == 6


async def test_no_event_before_the_transaction_commits(layer, room):
    channel = await listen(layer, room.squad)
    inside = asyncio.Event()
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def save_and_wait():
        with transaction.atomic():
            make_sample(room, at=NOW, tokens=7)
            loop.call_soon_threadsafe(inside.set)
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(5)

    saving = asyncio.ensure_future(sync_to_async(save_and_wait)())
    await inside.wait()

    await assert_quiet(layer, channel)
    release.set()
    await saving
    assert (await next_event(layer, channel))["data"]["tokens"] == 7


async def test_late_older_sample_is_stored_but_not_sent(layer, device_api, room):
    channel = await listen(layer, room.squad)
    await post(device_api, reading(room, timestamp=NOW, tokens_count=200))
    assert (await next_event(layer, channel))["data"]["tokens"] == 200

    late = await post(device_api, reading(room, timestamp=NOW - 30, tokens_count=100))

    assert late.status_code == 201
    assert await TelemetrySample.objects.acount() == 2
    await assert_quiet(layer, channel)


async def test_resent_sample_is_not_sent_again(layer, device_api, room):
    channel = await listen(layer, room.squad)
    body = reading(room, timestamp=NOW)
    await post(device_api, body)
    await next_event(layer, channel)

    again = await post(device_api, body)

    assert again.status_code == 200
    await assert_quiet(layer, channel)


async def test_batch_sends_the_newest_reading(layer, device_api, room):
    channel = await listen(layer, room.squad)
    batch = [
        reading(room, timestamp=NOW - 20, tokens_count=100),
        reading(room, timestamp=NOW, tokens_count=300),
        reading(room, timestamp=NOW - 10, tokens_count=200),
    ]

    await post(device_api, batch)

    tokens = [(await next_event(layer, channel))["data"]["tokens"]]
    while True:
        try:
            tokens.append(
                (await next_event(layer, channel, QUIET_SECONDS))["data"]["tokens"]
            )
        except TimeoutError:
            break
    # Readings go out in the batch's order until a newer one was sent.
    assert tokens == [100, 300]


def test_redis_down_still_stores_and_answers_201(own_redis, api, room, caplog):
    _, key = factories.make_device()
    api.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    own_redis.stop()

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="tracking"):
        response = api.post(URL, reading(room), format="json")
    elapsed = time.monotonic() - started

    assert response.status_code == 201
    assert TelemetrySample.objects.count() == 1
    assert elapsed < 5, f"the request waited {elapsed:.1f} s for a dead Redis"
    failures = [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING and record.name.startswith("tracking")
    ]
    assert any(
        "broadcast failed" in line
        and f"room={room.room_id} platform=chaturbate" in line
        for line in failures
    ), failures
    assert any(
        "cache update failed" in line
        and f"room={room.room_id} platform=chaturbate" in line
        for line in failures
    ), failures


def test_frozen_redis_does_not_hold_the_request(own_redis, api, room, caplog):
    """Run against a Redis that accepts connections but never responds (SIGSTOP)."""
    _, key = factories.make_device()
    api.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    os.kill(own_redis.process.pid, signal.SIGSTOP)

    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="tracking"):
            response = api.post(URL, reading(room), format="json")
        elapsed = time.monotonic() - started
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)

    assert response.status_code == 201
    assert TelemetrySample.objects.count() == 1
    assert elapsed < 6, f"the request waited {elapsed:.1f} s for a frozen Redis"
    assert f"broadcast failed room={room.room_id}" in caplog.text
