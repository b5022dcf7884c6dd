"""The God Mode WebSocket through the full ASGI app, on both channel layers."""

import asyncio
import logging
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from tests import factories
from tests.factories import access_token, make_sample
from tracking.models import Squad

pytestmark = pytest.mark.django_db(transaction=True)

NOW = int(time.time())


@pytest.fixture(params=["memory", "redis"])
def layer(request) -> str:
    """Run a test on the in-memory layer and on channels_redis with real Redis."""
    if request.param == "redis":
        request.getfixturevalue("use_redis")
    return request.param


@pytest.fixture
def application(layer):
    from sweetmodels.asgi import application

    return application


@pytest.fixture
async def sockets():
    """Open sockets through ``open`` and close whatever is left at the end."""
    opened: list[WebsocketCommunicator] = []
    yield opened
    await asyncio.gather(*(communicator.disconnect() for communicator in opened))


@pytest.fixture
def connect(application, sockets):
    async def open_socket(
        token: str | None = None,
        *,
        path: str = "/ws/dashboard/",
        via: str = "header",
        origin: str | None = None,
    ):
        headers = []
        subprotocols = None
        if token is not None and via == "header":
            headers.append((b"authorization", f"Bearer {token}".encode()))
        if token is not None and via == "subprotocol":
            subprotocols = ["bearer", token]
        if origin is not None:
            headers.append((b"origin", origin.encode()))
        communicator = WebsocketCommunicator(
            application, path, headers=headers, subprotocols=subprotocols
        )
        sockets.append(communicator)
        connected, subprotocol = await communicator.connect(timeout=5)
        return communicator, connected, subprotocol

    return open_socket


async def expect_close(communicator, code: int, timeout: float = 3) -> None:
    output = await communicator.receive_output(timeout)
    assert output["type"] == "websocket.close", output
    assert output["code"] == code


async def snapshot_of(communicator) -> dict:
    message = await communicator.receive_json_from(timeout=5)
    assert message["event_type"] == "SNAPSHOT"
    return message


async def next_update(communicator, timeout: float = 3) -> dict:
    message = await communicator.receive_json_from(timeout=timeout)
    assert message["event_type"] == "TELEMETRY_UPDATE", message
    return message


save_sample = sync_to_async(make_sample)


# Connecting


@pytest.mark.parametrize("path", ["/ws/dashboard/", "/ws/dashboard"])
@pytest.mark.parametrize("via", ["header", "subprotocol"])
async def test_connects_with_a_token_and_gets_a_snapshot(
    connect, room, other_room, squad_manager, path, via
):
    await save_sample(room, at=NOW - 5, tokens=1520, tips=12, viewers=48)
    await save_sample(other_room, at=NOW - 5, tokens=9)

    socket, connected, subprotocol = await connect(
        access_token(squad_manager), path=path, via=via
    )

    assert connected
    assert subprotocol == ("bearer" if via == "subprotocol" else None)
    snapshot = await snapshot_of(socket)
    assert [r["room_id"] for r in snapshot["rooms"]] == [room.room_id]
    assert snapshot["rooms"][0]["name"] == room.name
    assert snapshot["data"] == [
        {
            "room_id": room.room_id,
            "platform": "chaturbate",
            "tokens": 1520,
            "tips": 12,
            "viewers": 48,
            "timestamp": NOW - 5,
        }
    ]


async def test_sends_an_update_after_a_sample_is_saved(connect, room, squad_manager):
    socket, _, _ = await connect(access_token(squad_manager))
    await snapshot_of(socket)

    await save_sample(room, at=NOW, tokens=1540, tips=13, viewers=51)

    update = await next_update(socket)
    assert update["room_id"] == room.room_id
    assert update["data"] == {
        "platform": "chaturbate",
        "tokens": 1540,
        "tips": 13,
        "viewers": 51,
        "timestamp": NOW,
    }


# Refused connections


@pytest.mark.parametrize("via", ["header", "subprotocol"])
@pytest.mark.parametrize("token", ["missing", "garbage", "expired", "inactive"])
async def test_closes_4401_without_a_usable_token(
    connect, room, squad_manager, token, via
):
    if token == "inactive":
        squad_manager.is_active = False
        await squad_manager.asave()
    raw = {
        "missing": None,
        "garbage": "not.a.token",
        "expired": access_token(squad_manager, seconds=-5),
        "inactive": access_token(squad_manager),
    }[token]

    socket, connected, subprotocol = await connect(raw, via=via)

    assert connected
    if raw is not None and via == "subprotocol":
        # A browser that offered subprotocols drops a handshake response without one and
        # would never see the close code.
        assert subprotocol == "bearer"
    await expect_close(socket, 4401)


async def test_closes_4403_for_a_user_without_squads(connect, room, outsider):
    socket, connected, _ = await connect(access_token(outsider))

    assert connected
    await expect_close(socket, 4403)


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "https://127.0.0.1.evil.example", "null"]
)
async def test_rejects_a_page_of_another_site(connect, room, squad_manager, origin):
    _, connected, _ = await connect(access_token(squad_manager), origin=origin)

    assert not connected


@pytest.mark.parametrize(
    "origin",
    [None, "http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"],
)
async def test_accepts_native_clients_and_own_pages(
    connect, room, squad_manager, origin
):
    socket, connected, _ = await connect(access_token(squad_manager), origin=origin)

    assert connected
    await snapshot_of(socket)


# Who receives what


async def test_staff_receives_every_squad(connect, room, other_room, staff_user):
    socket, _, _ = await connect(access_token(staff_user))
    snapshot = await snapshot_of(socket)
    assert {r["room_id"] for r in snapshot["rooms"]} == {
        room.room_id,
        other_room.room_id,
    }

    await save_sample(room, at=NOW, tokens=1)
    await save_sample(other_room, at=NOW, tokens=2)

    updates = [await next_update(socket), await next_update(socket)]
    assert {u["room_id"] for u in updates} == {room.room_id, other_room.room_id}


async def test_other_squad_manager_gets_no_events(
    connect, room, other_room, other_manager
):
    socket, _, _ = await connect(access_token(other_manager))
    snapshot = await snapshot_of(socket)
    assert [r["room_id"] for r in snapshot["rooms"]] == [other_room.room_id]

    await save_sample(room, at=NOW, tokens=1)
    assert await socket.receive_nothing(timeout=0.5)

    # Its own squad still flows, so the silence above is the boundary.
    await save_sample(other_room, at=NOW, tokens=2)
    assert (await next_update(socket))["room_id"] == other_room.room_id


async def test_snapshot_leaves_out_inactive_rooms(connect, room, squad, squad_manager):
    await sync_to_async(factories.make_room)(
        squad=squad, room_id="room_off", is_active=False
    )

    socket, _, _ = await connect(access_token(squad_manager))

    rooms = (await snapshot_of(socket))["rooms"]
    assert [r["room_id"] for r in rooms] == [room.room_id]


# Token lifetime


async def test_closes_4401_when_the_token_expires(connect, room, squad_manager):
    socket, _, _ = await connect(access_token(squad_manager, seconds=2))
    await snapshot_of(socket)
    started = time.monotonic()

    await expect_close(socket, 4401, timeout=5)

    assert time.monotonic() - started < 4


async def test_refresh_keeps_socket_open(connect, room, squad_manager):
    socket, _, _ = await connect(access_token(squad_manager, seconds=2))
    await snapshot_of(socket)

    await socket.send_json_to(
        {"action": "refresh_token", "token": access_token(squad_manager)}
    )

    answer = await socket.receive_json_from(timeout=3)
    assert answer["event_type"] == "TOKEN_REFRESHED"
    assert answer["expires_at"] > time.time() + 60
    assert await socket.receive_nothing(timeout=3)
    await save_sample(room, at=NOW, tokens=77)
    assert (await next_update(socket))["data"]["tokens"] == 77


async def test_refresh_with_another_users_token_closes(
    connect, room, squad_manager, other_manager
):
    socket, _, _ = await connect(access_token(squad_manager))
    await snapshot_of(socket)

    await socket.send_json_to(
        {"action": "refresh_token", "token": access_token(other_manager)}
    )

    await expect_close(socket, 4403)


@pytest.mark.parametrize("token", ["garbage", None, 42])
async def test_refresh_with_an_unusable_token_closes_4401(
    connect, room, squad_manager, token
):
    socket, _, _ = await connect(access_token(squad_manager))
    await snapshot_of(socket)

    await socket.send_json_to({"action": "refresh_token", "token": token})

    await expect_close(socket, 4401)


async def test_refresh_applies_squad_changes(connect, room, other_room, squad_manager):
    socket, _, _ = await connect(access_token(squad_manager))
    await snapshot_of(socket)

    @sync_to_async
    def move_to_other_squad():
        room.squad.managers.remove(squad_manager)
        other_room.squad.managers.add(squad_manager)

    await move_to_other_squad()
    await socket.send_json_to(
        {"action": "refresh_token", "token": access_token(squad_manager)}
    )

    assert (await socket.receive_json_from(timeout=3))[
        "event_type"
    ] == "TOKEN_REFRESHED"
    snapshot = await snapshot_of(socket)
    assert [r["room_id"] for r in snapshot["rooms"]] == [other_room.room_id]
    await save_sample(room, at=NOW, tokens=1)
    assert await socket.receive_nothing(timeout=0.5)
    await save_sample(other_room, at=NOW, tokens=2)
    assert (await next_update(socket))["room_id"] == other_room.room_id


async def test_refresh_after_losing_every_squad_closes_4403(
    connect, room, squad_manager
):
    socket, _, _ = await connect(access_token(squad_manager))
    await snapshot_of(socket)
    await sync_to_async(Squad.managers.through.objects.all().delete)()

    await socket.send_json_to(
        {"action": "refresh_token", "token": access_token(squad_manager)}
    )

    assert (await socket.receive_json_from(timeout=3))[
        "event_type"
    ] == "TOKEN_REFRESHED"
    await expect_close(socket, 4403)


# Messages from the client


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "invalid_json"),
        ('{"action": "dance"}', "unknown_action"),
        ("[]", "unknown_action"),
    ],
)
async def test_answers_an_error_to_unknown_messages(
    connect, room, squad_manager, text, code
):
    socket, _, _ = await connect(access_token(squad_manager))
    await snapshot_of(socket)

    await socket.send_to(text_data=text)

    assert await socket.receive_json_from(timeout=3) == {
        "event_type": "ERROR",
        "code": code,
    }


async def test_every_squad_socket_gets_update(connect, room, squad_manager):
    token = access_token(squad_manager)
    sockets = []
    for _ in range(5):
        socket, _, _ = await connect(token)
        await snapshot_of(socket)
        sockets.append(socket)

    await save_sample(room, at=NOW, tokens=5)

    updates = await asyncio.gather(*(next_update(s) for s in sockets))
    assert {u["data"]["tokens"] for u in updates} == {5}


# Hostile messages and failing channel layers


async def test_deeply_nested_message_gets_an_error(
    connect, room, squad_manager, caplog
):
    socket, _, _ = await connect(access_token(squad_manager))
    await snapshot_of(socket)
    # Under the size limit, but deeper than Python's recursion limit.
    nested = "[" * 30_000 + "]" * 30_000

    await socket.send_to(text_data=nested)

    assert await socket.receive_json_from(timeout=3) == {
        "event_type": "ERROR",
        "code": "invalid_json",
    }
    await save_sample(room, at=NOW, tokens=31)
    assert (await next_update(socket))["data"]["tokens"] == 31
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("kind", ["text", "bytes"])
async def test_oversized_message_closes_1009(connect, room, squad_manager, kind):
    socket, _, _ = await connect(access_token(squad_manager))
    await snapshot_of(socket)
    payload = '{"action": "refresh_token", "token": "' + "x" * 70_000 + '"}'

    if kind == "text":
        await socket.send_to(text_data=payload)
    else:
        await socket.send_to(bytes_data=payload.encode())

    await expect_close(socket, 1009)


async def test_message_at_the_size_limit_is_read(connect, room, squad_manager):
    socket, _, _ = await connect(access_token(squad_manager))
    await snapshot_of(socket)
    padding = " " * (64 * 1024 - 30)

    await socket.send_to(text_data='{"action": "dance"}' + padding)

    assert (await socket.receive_json_from(timeout=3))["code"] == "unknown_action"


@pytest.mark.parametrize(
    ("token", "reason"), [("garbage", "TokenError"), ("expired", "ExpiredTokenError")]
)
async def test_rejected_token_logs_the_error_class(
    connect, room, squad_manager, caplog, token, reason
):
    raw = (
        "not.a.token" if token == "garbage" else access_token(squad_manager, seconds=-5)
    )

    with caplog.at_level(logging.INFO, logger="dashboard"):
        socket, _, _ = await connect(raw)
        await expect_close(socket, 4401)

    lines = [r.getMessage() for r in caplog.records if "token rejected" in r.message]
    assert lines == [f"websocket token rejected reason={reason}"]


async def test_disconnect_survives_a_stopped_redis(
    own_redis, room, squad_manager, caplog
):
    from sweetmodels.asgi import application

    communicator = WebsocketCommunicator(
        application,
        "/ws/dashboard/",
        headers=[(b"authorization", f"Bearer {access_token(squad_manager)}".encode())],
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await snapshot_of(communicator)
    own_redis.stop()

    await communicator.disconnect(timeout=10)

    failures = [r for r in caplog.records if "group_discard failed" in r.message]
    assert len(failures) == 1
    assert f"group=squad.{room.squad_id}" in failures[0].getMessage()


async def test_connect_with_a_stopped_redis_closes_1011(
    own_redis, room, squad_manager, caplog
):
    from sweetmodels.asgi import application

    own_redis.stop()
    communicator = WebsocketCommunicator(
        application,
        "/ws/dashboard/",
        headers=[(b"authorization", f"Bearer {access_token(squad_manager)}".encode())],
    )

    connected, _ = await communicator.connect(timeout=10)

    # A server error, so the page and native clients reconnect later.
    assert connected
    await expect_close(communicator, 1011, timeout=10)
    assert any("group_add failed" in r.message for r in caplog.records)
