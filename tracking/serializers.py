"""Validation of telemetry posted by devices and the shapes the API returns."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from tracking.events import unix_seconds
from tracking.fields import CountField, UnixTimestampField
from tracking.models import Room, TelemetrySample
from tracking.platforms import PLATFORMS

# Column limits of TelemetrySample: tokens is a 63-bit column, the others 31-bit.
MAX_TOKENS = 2**63 - 1
MAX_COUNT = 2**31 - 1

# A device posts a batch after an outage. The extension splits larger
# backlogs into requests of this size, so one request cannot hold the
# database for long.
MAX_BATCH_SIZE = 500


class TelemetryReadingSerializer(serializers.Serializer):
    """One reading of a broadcaster page, as the extension posts it.

    The view passes ``rooms`` in the context, a dict of the posted room IDs to
    their ``Room`` rows, so a batch costs one room query, not one per sample.
    """

    room_id = serializers.CharField(max_length=64)
    platform = serializers.CharField(max_length=32)
    tokens_count = CountField(max_value=MAX_TOKENS)
    tips_count = CountField(max_value=MAX_COUNT)
    viewers_count = CountField(max_value=MAX_COUNT)
    timestamp = UnixTimestampField()

    def validate_room_id(self, value: str) -> Room:
        room = self.context["rooms"].get(value)
        if room is None:
            raise serializers.ValidationError(
                _(
                    "Unknown room “%(room)s”. Pick a room listed in the extension options."
                )
                % {"room": value}
            )
        if not room.is_active:
            raise serializers.ValidationError(
                _("Room “%(room)s” is inactive. Ask an admin to activate it.")
                % {"room": value}
            )
        return room

    def validate_platform(self, value: str) -> str:
        if value not in PLATFORMS:
            raise serializers.ValidationError(
                _("Unknown platform “%(platform)s”. Use one of: %(choices)s.")
                % {"platform": value, "choices": ", ".join(PLATFORMS)}
            )
        return value


class TelemetrySampleSerializer(serializers.ModelSerializer):
    """A stored sample, in the shape the ingest API accepts plus its receipt."""

    room_id = serializers.CharField(source="room.room_id")
    timestamp = serializers.SerializerMethodField()
    received_at = serializers.SerializerMethodField()

    class Meta:
        model = TelemetrySample
        fields = [
            "room_id",
            "platform",
            "tokens_count",
            "tips_count",
            "viewers_count",
            "timestamp",
            "received_at",
        ]

    def get_timestamp(self, sample: TelemetrySample) -> float:
        return unix_seconds(sample.timestamp)

    def get_received_at(self, sample: TelemetrySample) -> float:
        return unix_seconds(sample.received_at)


class LatestReadingSerializer(serializers.Serializer):
    """The newest reading of a room on a platform (documentation only)."""

    room_id = serializers.CharField()
    platform = serializers.CharField()
    tokens_count = serializers.IntegerField()
    tips_count = serializers.IntegerField()
    viewers_count = serializers.IntegerField()
    timestamp = serializers.FloatField()


class IngestReceiptSerializer(serializers.Serializer):
    """Response to a posted sample or batch (documentation only)."""

    status = serializers.CharField()
    message = serializers.CharField()
    processed_at = serializers.IntegerField()
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()


class RoomSerializer(serializers.ModelSerializer):
    squad = serializers.CharField(source="squad.name")

    class Meta:
        model = Room
        fields = ["room_id", "name", "squad", "daily_token_goal", "is_active"]
