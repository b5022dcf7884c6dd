from rest_framework.routers import SimpleRouter

from tracking.views import RoomViewSet, TelemetryViewSet


class OptionalSlashRouter(SimpleRouter):
    """Routes that match with and without the trailing slash.

    The original clients post to ``/api/tracking/telemetry`` with no slash, and
    a redirect would turn their POST into a GET.
    """

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("tracking/telemetry", TelemetryViewSet, basename="telemetry")
router.register("tracking/rooms", RoomViewSet, basename="room")

urlpatterns = router.urls
