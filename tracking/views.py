"""REST endpoints for telemetry ingest, history and rooms."""

import logging
import time

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework_simplejwt.authentication import JWTAuthentication

from tracking import selectors, services
from tracking.authentication import DeviceKeyAuthentication
from tracking.errors import telemetry_exception_handler
from tracking.filters import filter_history
from tracking.models import Device, Room, TelemetrySample
from tracking.permissions import IsDevice, IsDeviceOrUser, device_may_use
from tracking.platforms import PLATFORMS
from tracking.serializers import (
    MAX_BATCH_SIZE,
    IngestReceiptSerializer,
    LatestReadingSerializer,
    RoomSerializer,
    TelemetryReadingSerializer,
    TelemetrySampleSerializer,
)

logger = logging.getLogger(__name__)


def aligned_errors(errors: dict, count: int) -> list[dict]:
    """Return batch errors as a list with one object per posted reading.

    DRF 3.18 maps only the invalid items by index. Clients (the extension
    among them) drop the readings whose entry is not empty and resend the
    rest, so every position gets an entry, ``{}`` for a valid reading. DRF
    gives a ``null`` item a bare list of messages, which becomes
    ``non_field_errors`` like the errors of any other item that is not an
    object.
    """
    entries = []
    for index in range(count):
        entry = errors.get(index, {})
        if isinstance(entry, list):
            entry = {"non_field_errors": entry}
        entries.append(entry)
    return entries


class HistoryPagination(CursorPagination):
    ordering = ("-timestamp", "-id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    invalid_cursor_message = gettext_lazy(
        "Invalid cursor. Follow the next or previous link of a page without "
        "changing it."
    )

    def decode_cursor(self, request):
        """Decode the cursor; raise a 400 that names it when it is not ours.

        DRF checks the cursor's encoding but not its position, which goes
        straight into a ``timestamp`` filter, so a forged position would make
        the database query fail.
        """
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise self._invalid_cursor() from None
        if cursor is not None and not _is_aware_datetime(cursor.position):
            raise self._invalid_cursor()
        return cursor

    def _invalid_cursor(self) -> exceptions.ValidationError:
        return exceptions.ValidationError(
            {self.cursor_query_param: [self.invalid_cursor_message]}
        )


def _is_aware_datetime(position: str | None) -> bool:
    # The first page going backwards has no position; DRF writes every other
    # as str() of an aware datetime.
    if position is None:
        return True
    try:
        moment = parse_datetime(position)
    except ValueError:
        return False
    return moment is not None and moment.tzinfo is not None


def room_not_found(room_id: str) -> exceptions.NotFound:
    return exceptions.NotFound(
        _("Room “%(room)s” not found, or you may not see it.") % {"room": room_id}
    )


class MethodCheckFirstMixin:
    """Reject an unrouted method with 405 before checking credentials.

    DRF checks authentication and permissions before it looks for the
    method's handler. Without this, a PUT without credentials would get 401
    or 403 and send the client looking for a key that cannot help.
    """

    def initial(self, request, *args, **kwargs):
        if not hasattr(self, request.method.lower()):
            self.http_method_not_allowed(request, *args, **kwargs)
        super().initial(request, *args, **kwargs)


class TelemetryViewSet(
    MethodCheckFirstMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """Telemetry of rooms: devices post readings, users read them back."""

    serializer_class = TelemetrySampleSerializer
    pagination_class = HistoryPagination

    def initialize_request(self, request, *args, **kwargs):
        # DRF builds the authenticators inside this call, before it sets
        # self.action, so the action is looked up from the method here.
        self.is_ingest = self.action_map.get(request.method.lower()) == "create"
        return super().initialize_request(request, *args, **kwargs)

    def get_authenticators(self):
        # The ingest endpoint takes device keys only: a browser session must
        # not be able to post telemetry, and no CSRF applies to devices.
        if self.is_ingest:
            return [DeviceKeyAuthentication()]
        return [DeviceKeyAuthentication(), JWTAuthentication(), SessionAuthentication()]

    def get_permissions(self):
        if self.action == "create":
            return [IsDevice()]
        if self.action == "latest":
            return [IsDeviceOrUser()]
        return [IsAuthenticated()]

    def get_exception_handler(self):
        return telemetry_exception_handler

    def permission_denied(self, request, message=None, code=None):
        # DRF's default "credentials were not provided" does not tell a device
        # owner which header the ingest endpoint wants.
        if self.action == "create" and request.successful_authenticator is None:
            raise exceptions.NotAuthenticated(
                _("Send the device key in the header Authorization: Device <key>.")
            )
        super().permission_denied(request, message=message, code=code)

    def get_queryset(self):
        rooms = Room.objects.visible_to(self.request.user)
        samples = TelemetrySample.objects.filter(room__in=rooms).select_related("room")
        return filter_history(samples, self.request.query_params)

    @extend_schema(
        request=TelemetryReadingSerializer(many=True),
        responses={201: IngestReceiptSerializer, 200: IngestReceiptSerializer},
        description=(
            "Post one reading (a JSON object) or a batch (a JSON array of up to "
            f"{MAX_BATCH_SIZE}). Answers 201 when something new was stored and 200 "
            "when every reading was already stored. Fields other than the six "
            "listed are ignored, so newer clients may send more."
        ),
    )
    def create(self, request):
        payload = request.data
        is_batch = isinstance(payload, list)
        if not is_batch and not isinstance(payload, dict):
            raise exceptions.ValidationError(
                {
                    "non_field_errors": [
                        _(
                            "Send one reading as a JSON object or a batch as a JSON array of objects."
                        )
                    ]
                }
            )
        items = payload if is_batch else [payload]
        self._check_batch_shape(items, is_batch)

        rooms = selectors.rooms_for_readings(items)
        serializer = TelemetryReadingSerializer(
            data=items, many=True, context={"rooms": rooms}
        )
        if not serializer.is_valid():
            raise exceptions.ValidationError(
                aligned_errors(serializer.errors, len(items))
                if is_batch
                else serializer.errors[0]
            )

        device = request.auth
        for reading in serializer.validated_data:
            if not device_may_use(device, reading["room_id"]):
                logger.warning(
                    "device not allowed for room device=%s room=%s",
                    device.pk,
                    reading["room_id"].room_id,
                )
                message = _(
                    "This device may not send data for room “%(room)s”. Ask an "
                    "admin to add the room to this device."
                ) % {"room": reading["room_id"].room_id}
                raise exceptions.PermissionDenied({"room_id": [message]})

        result = services.ingest_readings(
            device=device, readings=serializer.validated_data
        )

        if result.created:
            message = _("Telemetry stored.")
            code = status.HTTP_201_CREATED
        else:
            message = _("Telemetry already stored; nothing changed.")
            code = status.HTTP_200_OK
        body = {
            "status": "success",
            "message": message,
            "processed_at": int(time.time()),
            "created": result.created,
            "duplicates": result.duplicates,
        }
        return Response(body, status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter("room", str, description="Room ID, for example room_123."),
            OpenApiParameter("platform", str, enum=list(PLATFORMS)),
            OpenApiParameter("since", float, description="Unix seconds, inclusive."),
            OpenApiParameter("until", float, description="Unix seconds, exclusive."),
        ],
    )
    def list(self, request, *args, **kwargs):
        """History of samples, newest first, of the rooms the user may see."""
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: LatestReadingSerializer})
    @action(detail=False, url_path=r"(?P<room_id>[-\w]+)/(?P<platform>[-\w]+)")
    def latest(self, request, room_id: str, platform: str):
        """Return the newest reading of a room on a platform, or 404 when there is none."""
        room = self._readable_room(room_id)
        if platform not in PLATFORMS:
            raise exceptions.NotFound(
                _("Unknown platform “%(platform)s”. Use one of: %(choices)s.")
                % {"platform": platform, "choices": ", ".join(PLATFORMS)}
            )

        reading = selectors.latest_reading(room, platform)
        if reading is None:
            raise exceptions.NotFound(
                _("Room “%(room)s” has no telemetry on %(platform)s yet.")
                % {"room": room_id, "platform": PLATFORMS[platform].name}
            )
        return Response(reading)

    def _readable_room(self, room_id: str) -> Room:
        # A device reads only the rooms it may post to. A room the caller may
        # not read gets the same 404 as a room that does not exist, so the
        # response does not reveal which rooms exist.
        if self.request.user.is_authenticated:
            rooms = Room.objects.visible_to(self.request.user)
            room = rooms.filter(room_id=room_id).first()
        else:
            room = Room.objects.filter(room_id=room_id).first()
            if room is not None and not device_may_use(self.request.auth, room):
                room = None

        if room is None:
            raise room_not_found(room_id)
        return room

    @staticmethod
    def _check_batch_shape(items: list, is_batch: bool) -> None:
        if is_batch and not items:
            raise exceptions.ValidationError(
                {
                    "non_field_errors": [
                        _("The batch is empty; send at least one reading.")
                    ]
                }
            )
        if len(items) > MAX_BATCH_SIZE:
            raise exceptions.ValidationError(
                {
                    "non_field_errors": [
                        _(
                            "The batch has %(count)d readings; send at most %(max)d per request."
                        )
                        % {"count": len(items), "max": MAX_BATCH_SIZE}
                    ]
                }
            )


class RoomViewSet(MethodCheckFirstMixin, viewsets.ReadOnlyModelViewSet):
    """Rooms the caller may post to (a device) or watch (a user)."""

    serializer_class = RoomSerializer
    lookup_field = "room_id"
    pagination_class = None
    authentication_classes = [
        DeviceKeyAuthentication,
        JWTAuthentication,
        SessionAuthentication,
    ]
    permission_classes = [IsDeviceOrUser]

    def get_exception_handler(self):
        return telemetry_exception_handler

    def get_object(self) -> Room:
        # The same 404 as the latest-reading endpoint, for rooms that do not
        # exist and rooms the caller may not see alike.
        room_id = self.kwargs[self.lookup_field]
        room = self.get_queryset().filter(room_id=room_id).first()
        if room is None:
            raise room_not_found(room_id)
        self.check_object_permissions(self.request, room)
        return room

    def get_queryset(self):
        rooms = Room.objects.select_related("squad")
        device = self.request.auth
        if self.request.user.is_authenticated:
            return rooms.visible_to(self.request.user)
        if not isinstance(device, Device):
            # Only the schema generator gets here, with a request that has
            # neither a user nor a device.
            return rooms.none()
        allowed = device.allowed_rooms.all()
        if allowed:
            return rooms.filter(pk__in=allowed, is_active=True)
        return rooms.filter(is_active=True)
