"""Logging of failures that can repeat on every request while a service is down."""

import logging
import math
import sys
import time

# A Redis outage fails every ingest request. One traceback a minute per kind of
# failure is enough to diagnose it, and the one-line messages still name each
# room and platform that was affected.
TRACEBACK_INTERVAL = 60.0

_last_traceback: dict[str, float] = {}


def log_failure(logger: logging.Logger, message: str, *args) -> None:
    """Log the exception being handled as one line, with a throttled traceback.

    Call it from an ``except`` block. ``message`` is a %-format string that
    names what failed and its ids (``room=%s platform=%s``); the error's type
    and text are appended.
    """
    error = sys.exc_info()[1]
    now = time.monotonic()
    # Races between threads only risk one extra traceback, so no lock.
    with_traceback = now - _last_traceback.get(message, -math.inf) >= (
        TRACEBACK_INTERVAL
    )
    if with_traceback:
        _last_traceback[message] = now

    logger.error(
        message + " error=%s: %s",
        *args,
        type(error).__name__,
        error,
        exc_info=with_traceback,
    )
