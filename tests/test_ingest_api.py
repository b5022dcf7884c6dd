"""POST /api/tracking/telemetry: device keys, validation, resends and batches."""

import time

import pytest

from tests import factories
from tests.factories import access_token, reading
from tracking.devices import revoke_device
from tracking.models import Device, TelemetrySample
from tracking.views import MAX_BATCH_SIZE

pytestmark = pytest.mark.django_db

URL = "/api/tracking/telemetry"


@pytest.fixture
def device_api(api, device_key):
    api.credentials(HTTP_AUTHORIZATION=f"Device {device_key}")
    return api


def post(client, body, **extra):
    return client.post(URL, body, format="json", **extra)


def errors_of(response) -> dict:
    body = response.json()
    assert body["status"] == "error"
    assert body["message"]
    return body["errors"]


# Accepted readings


@pytest.mark.parametrize("url", [URL, URL + "/"])
def test_stores_a_reading_and_answers_201(device_api, room, url):
    body = reading(room, tokens_count=1520, tips_count=12, viewers_count=48)

    response = device_api.post(url, body, format="json")

    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["status"] == "success"
    assert isinstance(answer["message"], str) and answer["message"]
    assert abs(answer["processed_at"] - time.time()) < 5
    assert isinstance(answer["processed_at"], int)
    sample = TelemetrySample.objects.get()
    assert sample.room == room
    assert sample.platform == "chaturbate"
    assert (sample.tokens_count, sample.tips_count, sample.viewers_count) == (
        1520,
        12,
        48,
    )
    assert sample.timestamp.timestamp() == body["timestamp"]
    assert sample.device == Device.objects.get()


def test_keeps_fractional_seconds_of_the_reading_time(device_api, room):
    moment = time.time() - 30.25

    response = post(device_api, reading(room, timestamp=moment))

    assert response.status_code == 201
    stored = TelemetrySample.objects.get().timestamp.timestamp()
    assert stored == pytest.approx(moment, abs=1e-6)


def test_resent_reading_is_stored_once_and_answers_200(device_api, room):
    body = reading(room)
    assert post(device_api, body).status_code == 201

    again = post(device_api, body)

    assert again.status_code == 200
    answer = again.json()
    assert answer["status"] == "success"
    assert answer["message"]
    assert isinstance(answer["processed_at"], int)
    assert TelemetrySample.objects.count() == 1


def test_other_platform_same_time_is_stored(device_api, room):
    body = reading(room)
    post(device_api, body)

    response = post(device_api, {**body, "platform": "stripchat"})

    assert response.status_code == 201
    assert TelemetrySample.objects.count() == 2


def test_marks_the_device_as_seen(device_api, room):
    device = Device.objects.get()
    assert device.last_seen_at is None

    post(device_api, reading(room), REMOTE_ADDR="127.0.0.7")

    device.refresh_from_db()
    assert device.last_seen_ip == "127.0.0.7"
    assert abs(device.last_seen_at.timestamp() - time.time()) < 5


def test_keyword_is_case_insensitive(api, room, device_key):
    api.credentials(HTTP_AUTHORIZATION=f"device {device_key}")

    assert post(api, reading(room)).status_code == 201


# Credentials


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Device wrong-key",
        "Device",
        "Device two parts",
        "Bearer something",
        "Token abc",
        "Device clé-ñ",
    ],
    ids=["none", "wrong", "no-key", "extra-part", "bearer", "token", "non-ascii"],
)
def test_rejects_missing_wrong_or_malformed_key(api, room, device_key, header):
    if header is not None:
        api.credentials(HTTP_AUTHORIZATION=header)

    response = post(api, reading(room))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Device")
    assert response.json()["status"] == "error"
    assert response.json()["message"]
    assert not TelemetrySample.objects.exists()


def test_rejects_a_revoked_key(api, room):
    device, key = factories.make_device()
    revoke_device(device)
    api.credentials(HTTP_AUTHORIZATION=f"Device {key}")

    response = post(api, reading(room))

    assert response.status_code == 401
    assert not TelemetrySample.objects.exists()


def test_jwt_user_cannot_post(api, room, staff_user):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(staff_user)}")

    response = post(api, reading(room))

    assert response.status_code == 401
    assert not TelemetrySample.objects.exists()


def test_session_user_cannot_post(api, room, staff_user):
    api.force_login(staff_user)

    response = post(api, reading(room))

    assert response.status_code == 401
    assert not TelemetrySample.objects.exists()


# Invalid readings

NOW = int(time.time())

INVALID_FIELDS = [
    ("room_id", "room_missing"),
    ("room_id", 123),
    ("platform", "onlyfans"),
    ("platform", None),
    ("tokens_count", -1),
    ("tips_count", -5),
    ("viewers_count", -1),
    ("tokens_count", 3.5),
    ("tokens_count", "12"),
    ("tips_count", True),
    ("viewers_count", None),
    ("viewers_count", [1]),
    ("tokens_count", 2**63),
    ("timestamp", "yesterday"),
    ("timestamp", "NaN"),
    ("timestamp", None),
    ("timestamp", True),
    ("timestamp", 1_500_000_000),
    ("timestamp", NOW + 600),
    ("timestamp", "2024-12-04T19:00:00Z"),
]


@pytest.mark.parametrize(("field", "value"), INVALID_FIELDS)
def test_rejects_an_invalid_field_and_names_it(device_api, room, field, value):
    response = post(device_api, reading(room, **{field: value}))

    assert response.status_code == 400, response.content
    errors = errors_of(response)
    assert list(errors) == [field]
    assert errors[field][0]
    assert not TelemetrySample.objects.exists()


@pytest.mark.parametrize(
    "field",
    ["room_id", "platform", "tokens_count", "tips_count", "viewers_count", "timestamp"],
)
def test_rejects_a_missing_field(device_api, room, field):
    body = reading(room)
    del body[field]

    response = post(device_api, body)

    assert response.status_code == 400
    assert list(errors_of(response)) == [field]
    assert not TelemetrySample.objects.exists()


def test_names_every_bad_field_at_once(device_api, room):
    body = reading(room, platform="onlyfans", tokens_count=-1, timestamp="now")

    response = post(device_api, body)

    assert response.status_code == 400
    assert set(errors_of(response)) == {"platform", "tokens_count", "timestamp"}


def test_rejects_an_inactive_room(device_api, squad):
    closed = factories.make_room(squad=squad, is_active=False)

    response = post(device_api, reading(closed))

    assert response.status_code == 400
    assert "room_id" in errors_of(response)
    assert not TelemetrySample.objects.exists()


def test_accepts_a_clock_slightly_ahead(device_api, room):
    response = post(device_api, reading(room, timestamp=time.time() + 60))

    assert response.status_code == 201


def test_accepts_whole_numbers_written_as_floats(device_api, room):
    response = post(device_api, reading(room, tokens_count=1500.0))

    assert response.status_code == 201
    assert TelemetrySample.objects.get().tokens_count == 1500


# Bodies that are not a reading


def test_rejects_a_body_that_is_not_json(device_api):
    response = device_api.post(URL, data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert "JSON" in response.json()["message"]
    assert not TelemetrySample.objects.exists()


def test_rejects_nan_literals(device_api, room):
    body = '{"room_id": "room_123", "platform": "chaturbate", "tokens_count": 1, '
    body += '"tips_count": 1, "viewers_count": 1, "timestamp": NaN}'

    response = device_api.post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert not TelemetrySample.objects.exists()


def test_rejects_an_overflowing_number_and_names_it(device_api, room):
    # JSON allows 1e400, which Python reads as infinity.
    body = '{"room_id": "room_123", "platform": "chaturbate", "tokens_count": 1, '
    body += '"tips_count": 1, "viewers_count": 1, "timestamp": 1e400}'

    response = device_api.post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert list(errors_of(response)) == ["timestamp"]
    assert not TelemetrySample.objects.exists()


def test_rejects_non_json_content_type(device_api, room):
    response = device_api.post(URL, data="tokens=5", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["message"]
    assert not TelemetrySample.objects.exists()


@pytest.mark.parametrize("body", ['"hello"', "42", "null", "true"])
def test_rejects_json_that_is_not_an_object(device_api, body):
    response = device_api.post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert "non_field_errors" in errors_of(response)
    assert not TelemetrySample.objects.exists()


# Batches


def test_stores_a_valid_batch_together(device_api, room):
    batch = [reading(room, timestamp=NOW - n) for n in range(3)]

    response = post(device_api, batch)

    assert response.status_code == 201
    assert response.json()["created"] == 3
    assert TelemetrySample.objects.count() == 3


def test_batch_with_invalid_item_stores_nothing(device_api, room):
    batch = [reading(room, timestamp=NOW - n) for n in range(3)]
    batch[1]["viewers_count"] = -3

    response = post(device_api, batch)

    assert response.status_code == 400
    # One entry per posted reading, so a client can drop the invalid ones.
    errors = errors_of(response)
    assert len(errors) == 3
    assert errors[0] == {}
    assert list(errors[1]) == ["viewers_count"]
    assert errors[2] == {}
    assert not TelemetrySample.objects.exists()


def test_batch_names_non_object_item(device_api, room):
    response = post(device_api, [reading(room), "oops"])

    assert response.status_code == 400
    errors = errors_of(response)
    assert errors[0] == {}
    assert list(errors[1]) == ["non_field_errors"]
    assert not TelemetrySample.objects.exists()


def test_batch_counts_resent_items_as_duplicates(device_api, room):
    old = reading(room, timestamp=NOW - 100)
    post(device_api, old)

    response = post(device_api, [old, reading(room, timestamp=NOW - 50)])

    assert response.status_code == 201
    assert (response.json()["created"], response.json()["duplicates"]) == (1, 1)
    assert TelemetrySample.objects.count() == 2


def test_batch_that_was_all_stored_before_answers_200(device_api, room):
    batch = [reading(room, timestamp=NOW - n) for n in range(2)]
    post(device_api, batch)

    response = post(device_api, batch)

    assert response.status_code == 200
    assert TelemetrySample.objects.count() == 2


def test_rejects_an_empty_batch(device_api):
    response = post(device_api, [])

    assert response.status_code == 400
    assert "non_field_errors" in errors_of(response)


def test_accepts_the_largest_batch(device_api, room):
    batch = [reading(room, timestamp=NOW - n) for n in range(MAX_BATCH_SIZE)]

    response = post(device_api, batch)

    assert response.status_code == 201
    assert TelemetrySample.objects.count() == MAX_BATCH_SIZE


def test_rejects_a_batch_over_the_limit(device_api, room):
    batch = [reading(room, timestamp=NOW - n) for n in range(MAX_BATCH_SIZE + 1)]

    response = post(device_api, batch)

    assert response.status_code == 400
    assert "non_field_errors" in errors_of(response)
    assert not TelemetrySample.objects.exists()


# Devices limited to some rooms


@pytest.fixture
def limited_api(api, room):
    _, key = factories.make_device(rooms=[room])
    api.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    return api


def test_limited_device_posts_to_its_room(limited_api, room):
    assert post(limited_api, reading(room)).status_code == 201


def test_limited_device_cannot_post_to_other_rooms(limited_api, squad, caplog):
    elsewhere = factories.make_room(squad=squad)

    response = post(limited_api, reading(elsewhere))

    assert response.status_code == 403
    assert "room_id" in response.json()["errors"]
    assert not TelemetrySample.objects.exists()
    assert f"room={elsewhere.room_id}" in caplog.text


def test_limited_device_mixed_batch_stores_nothing(limited_api, room, squad):
    elsewhere = factories.make_room(squad=squad)

    response = post(limited_api, [reading(room), reading(elsewhere)])

    assert response.status_code == 403
    assert not TelemetrySample.objects.exists()


# Language of the messages


def test_messages_in_english_when_asked(device_api, room):
    body = reading(room, tokens_count=-5)
    del body["tips_count"]

    response = post(device_api, body, HTTP_ACCEPT_LANGUAGE="en")

    errors = errors_of(response)
    assert errors["tips_count"] == ["This field is required."]
    assert errors["tokens_count"] == ["Must be 0 or more; received -5."]
    assert response.json()["message"] == (
        "Invalid telemetry; see errors for each field to fix."
    )


def test_drf_messages_in_spanish_by_default(device_api, room):
    body = reading(room)
    del body["tips_count"]

    response = post(device_api, body)

    assert errors_of(response)["tips_count"] == ["Este campo es requerido."]


# These check the project's own messages in Spanish. They fail until the
# Spanish catalog (locale/es) translates these exact strings; the English
# source strings are in tracking/fields.py, tracking/errors.py and
# tracking/views.py.


@pytest.mark.parametrize("accept_language", [None, "es", "es-CO,es;q=0.9"])
def test_messages_in_spanish_by_default(device_api, room, accept_language):
    extra = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    body = reading(room, tokens_count=-5, viewers_count=3.5)

    response = post(device_api, body, **extra)

    errors = errors_of(response)
    assert response.json()["message"] == (
        "Telemetría no válida; revise en errors cada campo por corregir."
    )
    assert errors["tokens_count"] == ["Debe ser 0 o más; se recibió -5."]
    assert errors["viewers_count"] == [
        "Debe ser un número entero, por ejemplo 120, no 3.5."
    ]


def test_missing_key_message_in_spanish(api, room):
    response = post(api, reading(room))

    assert response.status_code == 401
    assert response.json()["message"] == (
        "Envíe la clave del dispositivo en el encabezado Authorization: Device <clave>."
    )
