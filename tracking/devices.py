"""Creation and revocation of room devices."""

import logging

from django.db import transaction
from django.utils import timezone

from tracking.models import Device, Room

logger = logging.getLogger(__name__)


@transaction.atomic
def create_device(*, name: str, rooms: list[Room] | None = None) -> tuple[Device, str]:
    """Create a device and return it with its key, which is not stored anywhere."""
    device = Device(name=name)
    key = device.set_new_key()
    device.save()
    if rooms:
        device.allowed_rooms.set(rooms)
    logger.info("device created device=%s name=%s", device.pk, name)
    return device, key


def revoke_device(device: Device) -> None:
    if device.revoked_at is None:
        device.revoked_at = timezone.now()
        device.save(update_fields=["revoked_at"])
        logger.info("device revoked device=%s", device.pk)
