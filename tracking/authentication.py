"""Authentication of room devices by their ingest key.

A device sends ``Authorization: Device <key>``. The key is looked up by its
SHA-256 hash; a revoked device is rejected like an unknown one. On success
``request.user`` is anonymous and ``request.auth`` is the ``Device``.
"""

import logging
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from tracking.models import Device, hash_device_key
from tracking.write_lock import serialized_writes

logger = logging.getLogger(__name__)

KEYWORD = "Device"

# Writing "last seen" on every request would add a write per sample; once a
# minute is enough to tell a live device from a dead one.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


class DeviceKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() != KEYWORD.lower():
            return None

        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header. Send it as: Device <key>.")
            )
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                _("Invalid device key. Copy the key again from the admin.")
            ) from None

        device = (
            Device.objects.filter(key_hash=hash_device_key(key))
            .prefetch_related("allowed_rooms")
            .first()
        )
        if device is None:
            logger.warning(
                "rejected unknown device key address=%s",
                request.META.get("REMOTE_ADDR"),
            )
            raise exceptions.AuthenticationFailed(
                _("Invalid device key. Copy the key again from the admin.")
            )
        if device.is_revoked:
            logger.warning("rejected revoked device device=%s", device.pk)
            raise exceptions.AuthenticationFailed(
                _("This device was revoked. Ask an admin for a new key.")
            )

        self._mark_seen(device, request)
        return (AnonymousUser(), device)

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="api"'

    @staticmethod
    def _mark_seen(device: Device, request) -> None:
        now = timezone.now()
        address = request.META.get("REMOTE_ADDR") or None
        recent = (
            device.last_seen_at and now - device.last_seen_at < LAST_SEEN_RESOLUTION
        )
        if recent and device.last_seen_ip == address:
            return
        with serialized_writes():
            Device.objects.filter(pk=device.pk).update(
                last_seen_at=now, last_seen_ip=address
            )
        device.last_seen_at = now
        device.last_seen_ip = address
