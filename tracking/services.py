"""Ingest of validated telemetry readings, for the API and any other entry point."""

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from tracking.models import Device, TelemetrySample
from tracking.write_lock import serialized_writes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    created: int
    duplicates: int


def ingest_readings(*, device: Device | None, readings: list[dict]) -> IngestResult:
    """Store validated readings, counting those already stored as duplicates.

    Each reading is a validated ``TelemetryReadingSerializer`` dict, whose
    ``room_id`` is the ``Room``. All readings commit together. When this
    returns, every one of them is in the database, and events go out only after
    the commit.
    Raises ``django.db.OperationalError`` when the database stays locked or
    cannot be reached; then nothing was stored.
    """
    received_at = timezone.now()
    created = 0
    duplicates = 0

    with serialized_writes() as end_write_turn, transaction.atomic():
        # Registered before the samples' own hooks, so it runs first once the
        # commit is done: publishing the events need not keep the next
        # writer waiting.
        transaction.on_commit(end_write_turn)
        for reading in readings:
            sample = TelemetrySample(
                room=reading["room_id"],
                platform=reading["platform"],
                tokens_count=reading["tokens_count"],
                tips_count=reading["tips_count"],
                viewers_count=reading["viewers_count"],
                timestamp=reading["timestamp"],
                received_at=received_at,
                device=device,
            )
            # The savepoint lets a resent reading fail on the unique constraint
            # without rolling back the rest of the batch.
            try:
                with transaction.atomic():
                    sample.save(force_insert=True)
            except IntegrityError:
                if not _is_stored(sample):
                    raise
                duplicates += 1
                continue
            created += 1

    if duplicates:
        logger.info(
            "ignored resent samples device=%s duplicates=%d",
            device.pk if device else None,
            duplicates,
        )
    return IngestResult(created=created, duplicates=duplicates)


def _is_stored(sample: TelemetrySample) -> bool:
    return TelemetrySample.objects.filter(
        room=sample.room, platform=sample.platform, timestamp=sample.timestamp
    ).exists()
