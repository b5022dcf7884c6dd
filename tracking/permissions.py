"""Permissions to post telemetry and to read it."""

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from tracking.models import Device


class IsDevice(permissions.BasePermission):
    message = _(
        "Only a room device may send telemetry. Send Authorization: Device <key>."
    )

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Device)


class IsDeviceOrUser(permissions.BasePermission):
    message = _("Log in or send a device key to read this data.")

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Device) or bool(
            request.user and request.user.is_authenticated
        )


def device_may_use(device: Device, room) -> bool:
    """Return whether a device may post to or read a room.

    A device with allowed rooms may use only those; one with none may use any.
    """
    allowed = device.allowed_rooms.all()
    return not allowed or room in allowed
