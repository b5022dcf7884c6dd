"""Django admin as an admin inspecting rooms, devices and their telemetry."""

import hashlib
import re
import time

import pytest

from tests import factories
from tests.factories import make_sample, reading
from tracking.devices import revoke_device
from tracking.models import Device

pytestmark = pytest.mark.django_db

NOW = int(time.time())
KEY_IN_MESSAGE = re.compile(r"<code class=.device-key.>([^<]+)</code>")


@pytest.fixture
def admin(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


@pytest.mark.parametrize("model", ["squad", "room", "device", "telemetrysample"])
def test_each_changelist_opens(admin, room, model):
    make_sample(room)
    factories.make_device(rooms=[room])

    response = admin.get(f"/admin/tracking/{model}/")

    assert response.status_code == 200


@pytest.mark.parametrize("model", ["squad", "room", "device"])
def test_each_add_form_opens(admin, model):
    assert admin.get(f"/admin/tracking/{model}/add/").status_code == 200


def test_change_forms_open(admin, room):
    device, _ = factories.make_device()
    sample = make_sample(room)

    for url in (
        f"/admin/tracking/squad/{room.squad.pk}/change/",
        f"/admin/tracking/room/{room.pk}/change/",
        f"/admin/tracking/device/{device.pk}/change/",
        f"/admin/tracking/telemetrysample/{sample.pk}/change/",
    ):
        assert admin.get(url).status_code == 200, url


def test_rooms_list_shows_latest_columns(admin, room, squad):
    quiet = factories.make_room(squad=squad, room_id="room_quiet")
    make_sample(room, at=NOW - 60, tokens=1000, viewers=10)
    make_sample(room, at=NOW - 5, tokens=1520, viewers=48)

    page = admin.get("/admin/tracking/room/").content.decode()

    for header in ("Latest tokens", "Latest viewers", "Last seen"):
        assert header in page
    assert '<td class="field-latest_tokens">1520</td>' in page
    assert '<td class="field-latest_viewers">48</td>' in page
    assert quiet.room_id in page
    assert f'/admin/tracking/telemetrysample/?room__id__exact={room.pk}"' in page


@pytest.mark.parametrize("order", ["5", "-5", "6", "7"])
def test_rooms_list_sorts_by_the_latest_columns(admin, room, order):
    make_sample(room)

    assert admin.get("/admin/tracking/room/", {"o": order}).status_code == 200


def test_rooms_list_searches_and_filters(admin, room, other_room):
    found = admin.get("/admin/tracking/room/", {"q": "room_456"}).content.decode()
    active = admin.get("/admin/tracking/room/", {"is_active__exact": "1"})

    assert "room_456" in found
    assert "room_123" not in found
    assert active.status_code == 200


def test_device_add_shows_key_once(admin, api, room):
    response = admin.post(
        "/admin/tracking/device/add/",
        {"name": "PC sala 3", "allowed_rooms": [room.pk]},
        follow=True,
    )

    assert response.status_code == 200
    match = KEY_IN_MESSAGE.search(response.content.decode())
    assert match, "the new key is not shown"
    key = match.group(1)
    device = Device.objects.get(name="PC sala 3")
    assert device.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {device.key_hash, device.key_prefix, device.name}
    assert list(device.allowed_rooms.all()) == [room]

    change_page = admin.get(f"/admin/tracking/device/{device.pk}/change/")
    assert key not in change_page.content.decode()

    api.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    posted = api.post("/api/tracking/telemetry", reading(room), format="json")
    assert posted.status_code == 201


def test_editing_a_device_keeps_its_key(admin, room):
    device, key = factories.make_device()

    admin.post(
        f"/admin/tracking/device/{device.pk}/change/",
        {"name": "PC renamed", "allowed_rooms": []},
    )

    device.refresh_from_db()
    assert device.name == "PC renamed"
    assert device.key_hash == hashlib.sha256(key.encode()).hexdigest()


def test_revoke_action_revokes_the_selected_devices(admin, api, room):
    first, first_key = factories.make_device(name="PC 1")
    second, _ = factories.make_device(name="PC 2")
    kept, _ = factories.make_device(name="PC 3")

    response = admin.post(
        "/admin/tracking/device/",
        {"action": "revoke_selected", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "2 devices revoked." in response.content.decode()
    revoked = set(Device.objects.filter(revoked_at__isnull=False))
    assert revoked == {first, second}
    api.credentials(HTTP_AUTHORIZATION=f"Device {first_key}")
    assert (
        api.post("/api/tracking/telemetry", reading(room), format="json").status_code
        == 401
    )


def test_samples_are_read_only(admin, room):
    sample = make_sample(room, tokens=100)
    url = f"/admin/tracking/telemetrysample/{sample.pk}/change/"

    page = admin.get(url).content.decode()
    changed = admin.post(
        url,
        {
            "room": room.pk,
            "platform": "chaturbate",
            "tokens_count": 999,
            "tips_count": 1,
            "viewers_count": 1,
        },
    )

    assert 'name="_save"' not in page
    assert changed.status_code == 403
    assert admin.get("/admin/tracking/telemetrysample/add/").status_code == 403
    sample.refresh_from_db()
    assert sample.tokens_count == 100


def test_samples_list_filters_by_room(admin, room, other_room):
    make_sample(room, tokens=111)
    make_sample(other_room, tokens=222)

    page = admin.get(
        "/admin/tracking/telemetrysample/", {"room__id__exact": room.pk}
    ).content.decode()

    assert '<td class="field-tokens_count">111</td>' in page
    assert '<td class="field-tokens_count">222</td>' not in page


def test_admin_rejects_non_staff_manager(client, squad_manager):
    client.force_login(squad_manager)

    response = client.get("/admin/tracking/room/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_device_add_form_hides_history_fields(admin):
    form = admin.get("/admin/tracking/device/add/").context["adminform"].form

    assert list(form.fields) == ["name", "allowed_rooms"]
    page = admin.get("/admin/tracking/device/add/").content.decode()
    assert "Key prefix" not in page
    assert "Revoked at" not in page


def test_device_list_filters_by_status(admin):
    active, _ = factories.make_device(name="PC active")
    revoked, _ = factories.make_device(name="PC revoked")
    revoke_device(revoked)

    active_page = admin.get("/admin/tracking/device/?status=active")
    revoked_page = admin.get("/admin/tracking/device/?status=revoked")

    assert list(active_page.context["cl"].result_list) == [active]
    assert list(revoked_page.context["cl"].result_list) == [revoked]


def test_admin_header_names_the_product_in_spanish(admin_client):
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert "Administración de Sweet Models God Mode" in page
    assert "Django" not in page.split("<body", 1)[1].split("</header>", 1)[0]
