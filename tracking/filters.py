"""Query-string filters of the telemetry history."""

import math
from datetime import UTC, datetime

from django.utils.translation import gettext as _
from rest_framework import exceptions

from tracking.platforms import PLATFORMS


def filter_history(samples, params):
    """Narrow ``samples`` by ``room``, ``platform``, ``since`` and ``until``.

    Raises a 400 that names the parameter when a value cannot be used.
    """
    room_id = params.get("room")
    if room_id:
        samples = samples.filter(room__room_id=room_id)

    platform = params.get("platform")
    if platform:
        if platform not in PLATFORMS:
            raise exceptions.ValidationError(
                {
                    "platform": [
                        _("Unknown platform “%(platform)s”. Use one of: %(choices)s.")
                        % {"platform": platform, "choices": ", ".join(PLATFORMS)}
                    ]
                }
            )
        samples = samples.filter(platform=platform)

    since = _parse_unix_time(params, "since")
    if since is not None:
        samples = samples.filter(timestamp__gte=since)
    until = _parse_unix_time(params, "until")
    if until is not None:
        samples = samples.filter(timestamp__lt=until)
    return samples


def _parse_unix_time(params, name: str) -> datetime | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        seconds = float(raw)
        if not math.isfinite(seconds):
            raise ValueError
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise exceptions.ValidationError(
            {name: [_("Must be a Unix time in seconds, for example 1733338800.")]}
        ) from None
