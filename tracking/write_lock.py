"""One writer at a time, in arrival order, when the database is SQLite.

SQLite lets one connection write at a time. A writer that finds the database
locked sleeps and retries in its busy handler, on a timer and in no order. So
under a burst of batches one request can retry past ``SQLITE_TIMEOUT`` and fail
with "database is locked" while later ones get in ahead of it. Writers of this
process therefore take their turn here first, in the order they arrived, and
SQLite sees one writer at a time. A request that waits longer than
``SQLITE_WRITE_QUEUE_TIMEOUT`` seconds gets ``WriteQueueTimeout``, which the
API answers with 503.

The lock is per process. The embedded mode runs one daphne process; writers
in other processes (a manage.py command) still meet SQLite's busy timeout.
PostgreSQL locks rows, not the database, so there the lock is skipped.
"""

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connections


class WriteQueueTimeout(OperationalError):
    """No turn to write came within ``SQLITE_WRITE_QUEUE_TIMEOUT`` seconds."""


class FifoLock:
    """A lock that waiting threads acquire in the order they asked for it."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._queue: deque[object] = deque()
        self._held = False

    @property
    def waiting(self) -> int:
        with self._condition:
            return len(self._queue)

    def acquire(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the lock; return whether it was taken."""
        ticket = object()
        deadline = time.monotonic() + timeout
        with self._condition:
            self._queue.append(ticket)
            while self._held or self._queue[0] is not ticket:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._queue.remove(ticket)
                    # The next in line may have been waiting behind this one.
                    self._condition.notify_all()
                    return False
                self._condition.wait(remaining)
            self._queue.popleft()
            self._held = True
            return True

    def release(self) -> None:
        with self._condition:
            self._held = False
            self._condition.notify_all()


_sqlite_writers = FifoLock()
_holder = threading.local()


@contextmanager
def serialized_writes(using: str = "default") -> Iterator[Callable[[], None]]:
    """Run the block as this process's only SQLite writer; no-op elsewhere.

    Yields a function that ends the turn early and may be called more than
    once. The turn ends at the latest when the block exits. Raises
    ``WriteQueueTimeout`` when the turn does not come in time. A block nested
    in another one of the same thread does not wait again.
    """
    if connections[using].vendor != "sqlite" or getattr(_holder, "active", False):
        yield lambda: None
        return

    wait = settings.SQLITE_WRITE_QUEUE_TIMEOUT
    if not _sqlite_writers.acquire(timeout=wait):
        raise WriteQueueTimeout(f"no turn to write to SQLite within {wait} s")
    _holder.active = True
    released = False

    def end_turn() -> None:
        nonlocal released
        if not released:
            released = True
            _holder.active = False
            _sqlite_writers.release()

    try:
        yield end_turn
    finally:
        end_turn()
