"""Django admin for squads, rooms, devices and the telemetry record."""

from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tracking.devices import revoke_device
from tracking.models import Device, Room, Squad, TelemetrySample


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0
    fields = ["room_id", "name", "daily_token_goal", "is_active"]
    show_change_link = True


@admin.register(Squad)
class SquadAdmin(admin.ModelAdmin):
    list_display = ["name", "daily_token_goal", "room_count"]
    search_fields = ["name", "managers__username"]
    filter_horizontal = ["managers"]
    inlines = [RoomInline]

    @admin.display(description=_("rooms"))
    def room_count(self, squad: Squad) -> int:
        return squad.rooms.count()


def _newest(field: str):
    newest = TelemetrySample.objects.filter(room=OuterRef("pk")).order_by("-timestamp")
    return Subquery(newest.values(field)[:1])


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = [
        "room_id",
        "name",
        "squad",
        "is_active",
        "latest_tokens",
        "latest_viewers",
        "last_seen",
        "history_link",
    ]
    list_filter = ["is_active", "squad"]
    list_select_related = ["squad"]
    search_fields = ["room_id", "name", "squad__name"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                newest_tokens=_newest("tokens_count"),
                newest_viewers=_newest("viewers_count"),
                newest_at=_newest("timestamp"),
            )
        )

    @admin.display(description=_("latest tokens"), ordering="newest_tokens")
    def latest_tokens(self, room: Room):
        return room.newest_tokens

    @admin.display(description=_("latest viewers"), ordering="newest_viewers")
    def latest_viewers(self, room: Room):
        return room.newest_viewers

    @admin.display(description=_("last seen"), ordering="newest_at")
    def last_seen(self, room: Room):
        return room.newest_at

    @admin.display(description=_("history"))
    def history_link(self, room: Room):
        url = reverse("admin:tracking_telemetrysample_changelist")
        return format_html(
            '<a href="{}?room__id__exact={}">{}</a>', url, room.pk, _("samples")
        )


class DeviceStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", _("Active")), ("revoked", _("Revoked"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "last_seen_at", "last_seen_ip", "revoked_at"]
    list_filter = [DeviceStatusFilter]
    search_fields = ["name", "key_prefix"]
    filter_horizontal = ["allowed_rooms"]
    readonly_fields = [
        "key_prefix",
        "created_at",
        "last_seen_at",
        "last_seen_ip",
        "revoked_at",
    ]
    actions = ["revoke_selected"]

    def get_fields(self, request, device=None):
        # A device being added has no key, history or revocation to show yet.
        if device is None:
            return ["name", "allowed_rooms"]
        return ["name", "allowed_rooms", *self.readonly_fields]

    def save_model(self, request, device: Device, form, change: bool) -> None:
        if not change:
            key = device.set_new_key()
            super().save_model(request, device, form, change)
            # The key is shown this once; only its hash is kept.
            messages.warning(
                request,
                format_html(
                    "{} <code class='device-key'>{}</code>",
                    _("Copy this device key now; it will not be shown again:"),
                    key,
                ),
            )
            return
        super().save_model(request, device, form, change)

    @admin.action(description=_("Revoke selected devices"))
    def revoke_selected(self, request, queryset) -> None:
        devices = list(queryset.filter(revoked_at__isnull=True))
        for device in devices:
            revoke_device(device)
        self.message_user(
            request,
            ngettext(
                "%(count)d device revoked.", "%(count)d devices revoked.", len(devices)
            )
            % {"count": len(devices)},
        )


@admin.register(TelemetrySample)
class TelemetrySampleAdmin(admin.ModelAdmin):
    list_display = [
        "room",
        "platform",
        "tokens_count",
        "tips_count",
        "viewers_count",
        "timestamp",
        "received_at",
        "device",
    ]
    list_filter = ["platform", "room__squad", "room"]
    list_select_related = ["room", "device"]
    search_fields = ["room__room_id", "room__name"]
    date_hierarchy = "timestamp"
    show_full_result_count = False

    # The telemetry is the record of what happened; nobody edits it by hand.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


admin.site.site_header = _("Sweet Models God Mode admin")
admin.site.site_title = _("God Mode admin")
admin.site.index_title = _("Squads, rooms and devices")
admin.site.site_url = "/"
