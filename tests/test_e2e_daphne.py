"""End to end through a real daphne process on Redis, with a real WebSocket client.

The daphne server is shared with the page and extension tests, so this module
posts to room_101 on stripchat with a fractional timestamp of now and a token
value of its own, and matches events on that value.
"""

import asyncio
import json
import secrets
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.processes import http_json

ROOM = "room_101"
PLATFORM = "stripchat"


async def staff_token(server) -> str:
    username, password = server.demo["staff"]
    status, tokens = await asyncio.to_thread(
        http_json,
        "POST",
        f"{server.base_url}/api/auth/token/",
        {"username": username, "password": password},
    )
    assert status == 200, tokens
    return tokens["access"]


async def post_reading(server, tokens: int) -> dict:
    reading = {
        "room_id": ROOM,
        "platform": PLATFORM,
        "tokens_count": tokens,
        "tips_count": 7,
        "viewers_count": 33,
        "timestamp": time.time(),
    }
    status, answer = await asyncio.to_thread(
        http_json,
        "POST",
        f"{server.base_url}/api/tracking/telemetry",
        reading,
        {"Authorization": f"Device {server.demo['device_key']}"},
    )
    assert status == 201, answer
    assert answer["status"] == "success"
    return reading


async def update_with_tokens(websocket, tokens: int, timeout: float = 10) -> dict:
    """Read events until the one carrying ``tokens``; other tests' are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no TELEMETRY_UPDATE with tokens={tokens}"
        event = json.loads(await asyncio.wait_for(websocket.recv(), remaining))
        if (
            event["event_type"] == "TELEMETRY_UPDATE"
            and event["data"]["tokens"] == tokens
        ):
            return event


def unique_tokens() -> int:
    return 10_000_000 + secrets.randbelow(10**9)


@pytest.mark.parametrize("via", ["header", "subprotocol"])
async def test_posted_telemetry_reaches_a_websocket_client(daphne_server, via):
    access = await staff_token(daphne_server)
    if via == "header":
        options = {"additional_headers": {"Authorization": f"Bearer {access}"}}
    else:
        # What a browser sends: the token as a subprotocol, and its Origin.
        options = {"subprotocols": ["bearer", access], "origin": daphne_server.base_url}

    async with connect(daphne_server.ws_url, proxy=None, **options) as websocket:
        if via == "subprotocol":
            assert websocket.subprotocol == "bearer"
        snapshot = json.loads(await asyncio.wait_for(websocket.recv(), 10))
        assert snapshot["event_type"] == "SNAPSHOT"
        assert set(daphne_server.demo["rooms"]) <= {
            room["room_id"] for room in snapshot["rooms"]
        }

        tokens = unique_tokens()
        reading = await post_reading(daphne_server, tokens)
        event = await update_with_tokens(websocket, tokens)

    assert event["room_id"] == ROOM
    assert event["data"] == {
        "platform": PLATFORM,
        "tokens": tokens,
        "tips": 7,
        "viewers": 33,
        "timestamp": pytest.approx(reading["timestamp"], abs=1e-5),
    }


async def test_bad_token_is_closed_with_4401(daphne_server):
    headers = {"Authorization": "Bearer not-a-token"}

    async with connect(
        daphne_server.ws_url, proxy=None, additional_headers=headers
    ) as websocket:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(websocket.recv(), 10)

    assert closed.value.rcvd.code == 4401


async def test_page_of_another_site_is_refused(daphne_server):
    access = await staff_token(daphne_server)

    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            daphne_server.ws_url,
            proxy=None,
            subprotocols=["bearer", access],
            origin="http://evil.example",
        ):
            pass

    assert refused.value.response.status_code == 403


async def test_latest_is_readable_after_the_post(daphne_server):
    access = await staff_token(daphne_server)
    tokens = unique_tokens()
    await post_reading(daphne_server, tokens)

    status, body = await asyncio.to_thread(
        http_json,
        "GET",
        f"{daphne_server.base_url}/api/tracking/telemetry/{ROOM}/{PLATFORM}",
        None,
        {"Authorization": f"Bearer {access}"},
    )

    assert status == 200
    assert body["tokens_count"] == tokens


def test_log_names_rooms_but_never_secrets(daphne_server):
    access = asyncio.run(staff_token(daphne_server))
    asyncio.run(post_reading(daphne_server, unique_tokens()))

    log = daphne_server.log_text()

    assert daphne_server.demo["device_key"] not in log
    assert daphne_server.demo["device_key"][:20] not in log
    assert access not in log
    assert daphne_server.demo["staff"][1] not in log


def test_each_log_line_is_written_once(daphne_server):
    marker = "rejected unknown device key"
    before = daphne_server.log_text().count(marker)

    status, _ = http_json(
        "POST",
        f"{daphne_server.base_url}/api/tracking/telemetry",
        {},
        {"Authorization": "Device not-a-key"},
    )

    assert status == 401
    # Give the server a moment to flush, then count again.
    deadline = time.monotonic() + 5
    while daphne_server.log_text().count(marker) == before:
        assert time.monotonic() < deadline, "the rejection was not logged"
        time.sleep(0.05)
    time.sleep(0.3)
    assert daphne_server.log_text().count(marker) == before + 1
