"""Load and faults against real daphne processes: no 500s, no lost readings, no leaks.

Each server here is the test module's own, so a burst cannot disturb the
shared daphne of the other end-to-end tests.
"""

import asyncio
import http.client
import json
import secrets
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from websockets.asyncio.client import connect

from tests.processes import DaphneServer, http_json
from tracking.write_lock import FifoLock

THREADS = 16
BATCHES_PER_THREAD = 2
READINGS_PER_BATCH = 500
REDIS_DB = 2


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory):
    """A daphne in the embedded mode: SQLite, in-memory layer, local cache.

    SQLite's busy timeout is cut to 1 s so that writers contending for the
    database fail within seconds, not after the default 20 s.
    """
    workdir = tmp_path_factory.mktemp("embedded")
    server = DaphneServer.prepare(
        workdir, SQLITE_TIMEOUT="1", SQLITE_WRITE_QUEUE_TIMEOUT="60"
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis_daphne(tmp_path_factory, redis_server):
    workdir = tmp_path_factory.mktemp("redis-daphne")
    server = DaphneServer.prepare(
        workdir, redis_url=redis_server.url_for(REDIS_DB)
    ).start()
    yield server
    server.stop()


def post_json(server, path: str, body, headers: dict) -> tuple[int, dict, dict]:
    """POST ``body``; return the status, the JSON body and the headers."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        conn.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"Content-Type": "application/json", **headers},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read()), dict(response.headers)
    finally:
        conn.close()


def count_rows(server, tokens: int) -> int:
    with sqlite3.connect(server.workdir / "db.sqlite3") as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM tracking_telemetrysample WHERE tokens_count = ?",
            (tokens,),
        ).fetchone()
    return count


def a_batch(server, *, tokens: int, first: float) -> list[dict]:
    rooms = server.demo["rooms"]
    return [
        {
            "room_id": rooms[index % len(rooms)],
            "platform": "chaturbate",
            "tokens_count": tokens,
            "tips_count": 1,
            "viewers_count": 2,
            # A thousandth of a second apart, so no reading repeats another.
            "timestamp": first + index / 1000,
        }
        for index in range(READINGS_PER_BATCH)
    ]


# SQLite writers in the embedded mode


def test_concurrent_batches_are_queued_not_failed(embedded_server):
    tokens = 700_000_000 + secrets.randbelow(10**8)
    headers = {"Authorization": f"Device {embedded_server.demo['device_key']}"}
    start = time.time() - 3600
    span = READINGS_PER_BATCH / 1000
    batches = [
        a_batch(embedded_server, tokens=tokens, first=start + number * span)
        for number in range(THREADS * BATCHES_PER_THREAD)
    ]

    def send(batch) -> tuple[int, dict]:
        status, answer, _ = post_json(
            embedded_server, "/api/tracking/telemetry", batch, headers
        )
        return status, answer

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(send, batches))

    statuses = [status for status, _ in answers]
    failures = [(s, a) for s, a in answers if s >= 300]
    assert not failures, failures[:3]
    assert statuses.count(201) == len(batches)
    assert count_rows(embedded_server, tokens) == len(batches) * READINGS_PER_BATCH
    assert "database is locked" not in embedded_server.log_text()


def test_locked_database_is_a_503_with_retry_after(embedded_server):
    tokens = 800_000_000 + secrets.randbelow(10**8)
    headers = {
        "Authorization": f"Device {embedded_server.demo['device_key']}",
        "Accept-Language": "en",
    }
    batch = a_batch(embedded_server, tokens=tokens, first=time.time() - 7200)[:5]
    # Another process holding the write lock longer than SQLite's 1 s timeout,
    # as a manage.py command or a second server on the same file could.
    holder = sqlite3.connect(
        embedded_server.workdir / "db.sqlite3", isolation_level=None
    )
    holder.execute("BEGIN IMMEDIATE")
    try:
        status, answer, response_headers = post_json(
            embedded_server, "/api/tracking/telemetry", batch, headers
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert status == 503, answer
    assert int(response_headers["Retry-After"]) > 0
    assert answer["status"] == "error"
    assert answer["message"] == "The database is busy. Retry in a few seconds."
    assert count_rows(embedded_server, tokens) == 0

    status, answer, _ = post_json(
        embedded_server, "/api/tracking/telemetry", batch, headers
    )
    assert status == 201, answer
    assert count_rows(embedded_server, tokens) == 5


def test_write_lock_serves_waiters_in_arrival_order():
    lock = FifoLock()
    order: list[int] = []
    assert lock.acquire(timeout=1)

    def wait_for_turn(number: int) -> None:
        assert lock.acquire(timeout=10)
        order.append(number)
        lock.release()

    threads = []
    for number in range(8):
        thread = threading.Thread(target=wait_for_turn, args=(number,))
        thread.start()
        threads.append(thread)
        # Give each thread time to join the queue before the next one.
        deadline = time.monotonic() + 2
        while lock.waiting < number + 1 and time.monotonic() < deadline:
            time.sleep(0.005)
    lock.release()
    for thread in threads:
        thread.join(timeout=10)

    assert order == list(range(8))


def test_write_lock_gives_up_after_its_timeout():
    lock = FifoLock()
    assert lock.acquire(timeout=1)

    started = time.monotonic()
    acquired = lock.acquire(timeout=0.2)

    assert not acquired
    assert 0.15 < time.monotonic() - started < 2
    assert lock.waiting == 0
    lock.release()
    assert lock.acquire(timeout=0.2)
    lock.release()


# Many WebSocket viewers on Redis


def group_members(server) -> int:
    client = redis.Redis.from_url(server.env["REDIS_URL"])
    try:
        return sum(client.zcard(key) for key in client.scan_iter("sweetmodels:group:*"))
    finally:
        client.close()


def staff_access(server) -> str:
    username, password = server.demo["staff"]
    status, tokens = http_json(
        "POST",
        f"{server.base_url}/api/auth/token/",
        {"username": username, "password": password},
    )
    assert status == 200, tokens
    return tokens["access"]


async def open_viewer(server, access: str):
    websocket = await connect(
        server.ws_url,
        proxy=None,
        additional_headers={"Authorization": f"Bearer {access}"},
        open_timeout=60,
    )
    snapshot = json.loads(await asyncio.wait_for(websocket.recv(), 60))
    assert snapshot["event_type"] == "SNAPSHOT"
    return websocket


def test_many_viewers_connect_and_leave_at_once(redis_daphne):
    access = staff_access(redis_daphne)
    viewers = 150

    async def connect_and_close_all() -> int:
        sockets = await asyncio.gather(
            *(open_viewer(redis_daphne, access) for _ in range(viewers))
        )
        joined = await asyncio.to_thread(group_members, redis_daphne)
        await asyncio.gather(*(websocket.close() for websocket in sockets))
        return joined

    joined = asyncio.run(connect_and_close_all())

    assert joined >= viewers
    deadline = time.monotonic() + 10
    while group_members(redis_daphne) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert group_members(redis_daphne) == 0
    log = redis_daphne.log_text()
    assert "Too many connections" not in log
    assert "Traceback" not in log
