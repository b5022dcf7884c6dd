import pytest

from tests.factories import reading
from tracking.models import TelemetrySample

pytestmark = pytest.mark.django_db(transaction=True)


def test_post_then_read_latest(api, room, device_key, squad_manager):
    api.credentials(HTTP_AUTHORIZATION=f"Device {device_key}")
    body = reading(room)
    response = api.post("/api/tracking/telemetry", body, format="json")
    assert response.status_code == 201, response.content
    assert TelemetrySample.objects.count() == 1

    again = api.post("/api/tracking/telemetry/", body, format="json")
    assert again.status_code == 200
    assert TelemetrySample.objects.count() == 1

    api.credentials()
    api.force_authenticate(squad_manager)
    latest = api.get(f"/api/tracking/telemetry/{room.room_id}/chaturbate")
    assert latest.status_code == 200
    assert latest.json()["tokens_count"] == body["tokens_count"]
