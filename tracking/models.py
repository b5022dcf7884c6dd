"""Squads, rooms, room devices and the telemetry they send."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tracking.platforms import PLATFORM_CHOICES

DEVICE_KEY_BYTES = 32


class Squad(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="managed_squads",
        verbose_name=_("managers and monitors"),
        help_text=_("Users who see this squad's rooms in God Mode."),
    )
    daily_token_goal = models.PositiveIntegerField(_("daily token goal"), default=0)

    class Meta:
        ordering = ["name"]
        verbose_name = _("squad")
        verbose_name_plural = _("squads")

    def __str__(self) -> str:
        return self.name


class RoomQuerySet(models.QuerySet):
    def visible_to(self, user) -> "RoomQuerySet":
        """Rooms a user may watch: all for staff, their squads' for managers."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self.all()
        return self.filter(squad__managers=user)


class Room(models.Model):
    room_id = models.SlugField(
        _("room ID"),
        max_length=64,
        unique=True,
        help_text=_("Short code the extension sends, for example room_123."),
    )
    name = models.CharField(_("display name"), max_length=100)
    squad = models.ForeignKey(
        Squad, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("squad")
    )
    daily_token_goal = models.PositiveIntegerField(_("daily token goal"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RoomQuerySet.as_manager()

    class Meta:
        ordering = ["squad__name", "name"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")

    def __str__(self) -> str:
        return f"{self.name} ({self.room_id})"


def hash_device_key(key: str) -> str:
    # Keys are 256 random bits, so a fast hash is enough: there is nothing to
    # brute-force, and ingest checks one on every request.
    return hashlib.sha256(key.encode()).hexdigest()


class DeviceQuerySet(models.QuerySet):
    def active(self) -> "DeviceQuerySet":
        return self.filter(revoked_at__isnull=True)


class Device(models.Model):
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(
        _("key prefix"),
        max_length=8,
        editable=False,
        help_text=_("First characters of the key, to tell devices apart."),
    )
    allowed_rooms = models.ManyToManyField(
        Room,
        blank=True,
        related_name="devices",
        verbose_name=_("allowed rooms"),
        help_text=_("Leave empty to let the device send data for any active room."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)
    last_seen_ip = models.GenericIPAddressField(
        _("last address"), null=True, blank=True
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def set_new_key(self) -> str:
        """Give the device a fresh key and return it; only its hash is stored."""
        key = secrets.token_urlsafe(DEVICE_KEY_BYTES)
        self.key_hash = hash_device_key(key)
        self.key_prefix = key[:8]
        return key


class TelemetrySample(models.Model):
    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="samples", verbose_name=_("room")
    )
    platform = models.CharField(_("platform"), max_length=32, choices=PLATFORM_CHOICES)
    # The broadcaster's cumulative balance as the page shows it, not a delta.
    tokens_count = models.PositiveBigIntegerField(_("tokens"))
    tips_count = models.PositiveIntegerField(_("tips"))
    viewers_count = models.PositiveIntegerField(_("viewers"))
    timestamp = models.DateTimeField(
        _("read at"), help_text=_("When the page was read.")
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    device = models.ForeignKey(
        Device,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="samples",
        verbose_name=_("device"),
    )

    class Meta:
        ordering = ["-timestamp"]
        verbose_name = _("telemetry sample")
        verbose_name_plural = _("telemetry samples")
        constraints = [
            # A resent sample (same room, platform and reading time) is stored once.
            models.UniqueConstraint(
                fields=["room", "platform", "timestamp"], name="unique_sample_reading"
            ),
        ]
        indexes = [
            models.Index(fields=["room", "timestamp"], name="sample_room_time"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.room.room_id}/{self.platform} @ {self.timestamp:%Y-%m-%d %H:%M:%S}"
        )
