"""Strict serializer fields for telemetry sent by room devices.

DRF's own IntegerField accepts "12", 12.0 and true-ish strings; device data
must be exact, so these fields accept JSON numbers only.
"""

import json
import math
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Clocks on room computers drift; a reading more than this far ahead of the
# server is a wrong clock, not a future sample.
MAX_CLOCK_AHEAD = timedelta(minutes=5)
EARLIEST_READING = datetime(2020, 1, 1, tzinfo=UTC)


@extend_schema_field({"type": "integer", "minimum": 0})
class CountField(serializers.Field):
    """A non-negative whole JSON number no larger than ``max_value``."""

    default_error_messages = {
        "invalid": _("Must be a whole number, for example 120, not {value}."),
        "negative": _("Must be 0 or more; received {value}."),
        "too_large": _("Must be at most {max_value}; received {value}."),
    }

    def __init__(self, *, max_value: int, **kwargs):
        self.max_value = max_value
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        is_number = isinstance(data, int | float) and not isinstance(data, bool)
        if not is_number or not math.isfinite(data) or data != int(data):
            self.fail("invalid", value=_describe(data))
        value = int(data)
        if value < 0:
            self.fail("negative", value=value)
        if value > self.max_value:
            self.fail("too_large", value=value, max_value=self.max_value)
        return value

    def to_representation(self, value):
        return value


@extend_schema_field(OpenApiTypes.NUMBER)
class UnixTimestampField(serializers.Field):
    """A reading time in Unix seconds (a JSON number), returned as aware UTC."""

    default_error_messages = {
        "invalid": _(
            "Must be a Unix time in seconds, for example 1733338800, not {value}."
        ),
        "too_old": _("Is before 2020-01-01; check the clock of the room computer."),
        "in_future": _(
            "Is more than 5 minutes ahead of the server; check the clock of the "
            "room computer."
        ),
    }

    def to_internal_value(self, data):
        is_number = isinstance(data, int | float) and not isinstance(data, bool)
        if not is_number or not math.isfinite(data):
            self.fail("invalid", value=_describe(data))
        try:
            moment = datetime.fromtimestamp(data, tz=UTC)
        except (OverflowError, OSError, ValueError):
            self.fail("invalid", value=_describe(data))
        if moment < EARLIEST_READING:
            self.fail("too_old")
        if moment > timezone.now() + MAX_CLOCK_AHEAD:
            self.fail("in_future")
        return moment

    def to_representation(self, value):
        return value.timestamp()


def printable(text: str) -> str:
    """Return ``text`` with any lone surrogate written as its escape, ``\\ud800``.

    A lone surrogate is a Python string that UTF-8 cannot encode, so a
    message that echoes one could not be sent.
    """
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _describe(value) -> str:
    # Shown as JSON, because that is what the sender wrote.
    text = printable(json.dumps(value, ensure_ascii=False, default=str))
    return text if len(text) <= 40 else text[:37] + "..."
