"""Who may post telemetry and who may read it."""

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
    """Whether a device may post to or read a room: its list, or any when empty."""
    allowed = device.allowed_rooms.all()
    return not allowed or room in allowed
