"""Hostile and malformed requests: each gets a JSON 4xx that says what to fix.

Each test sends what an attacker or a broken client could send and checks that
the server responds with a client error in JSON, stores nothing and logs no
error. The chunked-body tests need a real HTTP server, so they go through
the shared daphne process.
"""

import base64
import http.client
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from tests.factories import access_token, make_sample, reading
from tracking import selectors
from tracking.models import TelemetrySample
from tracking.serializers import TelemetryReadingSerializer

pytestmark = pytest.mark.django_db

TELEMETRY = "/api/tracking/telemetry"
HISTORY = "/api/tracking/telemetry/"
TOKEN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"

# Python's JSON decoder recurses once per nesting level, so this exceeds the
# interpreter's recursion limit.
NESTED = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def device_api(api, device_key):
    api.credentials(HTTP_AUTHORIZATION=f"Device {device_key}")
    return api


def post_raw(client, url: str, text: str, **extra):
    return client.post(url, data=text, content_type="application/json", **extra)


def message_of(response) -> str:
    """Return the error text of a JSON error: ``message``, else ``detail``."""
    assert response["Content-Type"] == "application/json", response.content[:200]
    body = response.json()
    return body["message"] if "message" in body else body["detail"]


def error_records(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


def with_raw_value(body: dict, field: str, raw_json: str) -> str:
    """Return ``body`` as JSON text with ``field`` set to the literal ``raw_json``."""
    return json.dumps({**body, field: "@@"}).replace('"@@"', raw_json)


# Deeply nested JSON


@pytest.mark.parametrize("url", [TOKEN, REFRESH, TELEMETRY])
def test_deeply_nested_json_is_a_400(device_api, url, caplog):
    response = post_raw(device_api, url, NESTED, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "nested too deeply" in json.dumps(response.json())
    assert message_of(response)
    assert not error_records(caplog)


def test_deeply_nested_json_stores_nothing(device_api, room):
    post_raw(device_api, TELEMETRY, "[" * 5000 + json.dumps(reading(room)) + "]" * 5000)

    assert not TelemetrySample.objects.exists()


# Room IDs that are not strings


@pytest.mark.parametrize(
    "value", [["room_123"], {"room_id": "room_123"}, [["room_123"]]]
)
def test_room_id_of_another_type_is_named(device_api, room, value, caplog):
    response = device_api.post(TELEMETRY, reading(room, room_id=value), format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["room_id"]
    assert not TelemetrySample.objects.exists()
    assert not error_records(caplog)


def test_batch_with_a_room_id_array_names_it(device_api, room):
    batch = [reading(room), reading(room, room_id=[room.room_id])]

    response = device_api.post(TELEMETRY, batch, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0] == {}
    assert list(errors[1]) == ["room_id"]


# Lone UTF-16 surrogates, which JSON can escape but UTF-8 cannot encode


@pytest.mark.parametrize(
    ("field", "raw_json"),
    [
        ("room_id", '"\\ud800"'),
        ("room_id", '"room_\\udfff"'),
        ("platform", '"\\ud800"'),
        ("tokens_count", '"\\udfff"'),
        ("timestamp", '"\\ud800"'),
    ],
)
def test_lone_surrogate_is_a_400(device_api, room, field, raw_json, caplog):
    text = with_raw_value(reading(room), field, raw_json)

    response = post_raw(device_api, TELEMETRY, text, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400, response.content
    assert "surrogate" in json.dumps(response.json())
    assert not TelemetrySample.objects.exists()
    assert not error_records(caplog)


def test_lone_surrogate_in_a_key_is_a_400(device_api, room):
    text = json.dumps(reading(room))[:-1] + ', "extra\\udfff": 1}'

    response = post_raw(device_api, TELEMETRY, text, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400, response.content
    assert "surrogate" in json.dumps(response.json())
    assert not TelemetrySample.objects.exists()


@pytest.mark.parametrize("url", [TOKEN, REFRESH])
def test_lone_surrogate_in_login_is_a_400(api, squad_manager, url, caplog):
    text = '{"username": "\\ud800", "password": "x", "refresh": "\\ud800"}'

    response = post_raw(api, url, text)

    assert response.status_code == 400
    assert message_of(response)
    assert not error_records(caplog)


def test_paired_surrogates_are_ordinary_text(device_api, room):
    # An escaped emoji is a valid pair; it is only an unknown room here.
    text = with_raw_value(reading(room), "room_id", '"\\ud83d\\ude00"')

    response = post_raw(device_api, TELEMETRY, text)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["room_id"]


@pytest.mark.parametrize("field", ["tokens_count", "timestamp", "platform", "room_id"])
def test_field_errors_with_a_surrogate_are_encodable(room, field):
    # Entry points other than the JSON parser can hand the serializer any
    # string, so the messages must stay encodable.
    serializer = TelemetryReadingSerializer(
        data=[reading(room, **{field: "ab\ud800"})],
        many=True,
        context={"rooms": {}},
    )

    assert not serializer.is_valid()
    message = str(serializer.errors[0][field][0])
    message.encode("utf-8")
    assert "\ud800" not in message


@pytest.mark.parametrize("field", ["tokens_count", "timestamp"])
def test_number_errors_show_a_surrogate_escaped(room, field):
    serializer = TelemetryReadingSerializer(
        data=[reading(room, **{field: "\ud800"})],
        many=True,
        context={"rooms": {}},
    )

    assert not serializer.is_valid()
    assert '"\\ud800"' in str(serializer.errors[0][field][0])


def test_room_lookup_skips_values_that_cannot_be_room_ids(room):
    items = [
        {"room_id": "\ud800"},
        {"room_id": "room 123; --"},
        {"room_id": "x" * 65},
        {"room_id": ["room_123"]},
        {"room_id": room.room_id},
        "not an object",
    ]

    with CaptureQueriesContext(connection) as queries:
        rooms = selectors.rooms_for_readings(items)

    assert rooms == {room.room_id: room}
    assert len(queries) == 1


def test_room_lookup_without_room_ids_runs_no_query():
    with CaptureQueriesContext(connection) as queries:
        rooms = selectors.rooms_for_readings([{"room_id": "\ud800"}, {}])

    assert rooms == {}
    assert len(queries) == 0


# Forged history cursors


def a_cursor(**fields) -> str:
    return base64.b64encode(urlencode(fields).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        a_cursor(p="2024"),
        a_cursor(p="not a time"),
        a_cursor(p="2024-13-45 10:00:00+00:00"),
        a_cursor(o="1", p="2024"),
        a_cursor(r="1", p="\x00"),
    ],
    ids=["year", "words", "impossible-date", "offset", "nul"],
)
def test_history_rejects_a_forged_cursor_position(api, staff_user, cursor, caplog):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(staff_user)}")

    response = api.get(HISTORY, {"cursor": cursor}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body["errors"]) == ["cursor"]
    assert "cursor" in body["errors"]["cursor"][0].lower()
    assert not error_records(caplog)


def test_history_still_accepts_its_own_cursor(api, room, staff_user):
    for offset in range(3):
        make_sample(room, at=time.time() - 100 - offset)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(staff_user)}")

    first = api.get(HISTORY, {"page_size": 2}).json()
    second = api.get(first["next"])

    assert second.status_code == 200
    assert len(second.json()["results"]) == 1


# Bodies over the size limit


def oversized_batch(room) -> str:
    # About 3 MB: over Django's DATA_UPLOAD_MAX_MEMORY_SIZE of 2.5 MB.
    return json.dumps([reading(room, padding="x" * 3000) for _ in range(1000)])


def test_telemetry_over_the_size_limit_is_a_413(device_api, room, caplog):
    response = post_raw(
        device_api, TELEMETRY, oversized_batch(room), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 413
    body = response.json()
    assert body["status"] == "error"
    assert body["message"] == (
        "The body is larger than 2.5\xa0MB; send at most 500 readings per request."
    )
    assert not TelemetrySample.objects.exists()
    assert not error_records(caplog)


@pytest.mark.parametrize("url", [TOKEN, REFRESH])
def test_login_over_the_size_limit_is_a_413(api, url, room):
    response = post_raw(api, url, oversized_batch(room), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 413
    assert message_of(response) == "The body is larger than 2.5\xa0MB."


def test_size_limit_message_in_spanish(device_api, room):
    response = post_raw(device_api, TELEMETRY, oversized_batch(room))

    assert response.json()["message"] == (
        "El cuerpo supera 2,5\xa0MB; envíe como máximo 500 lecturas por solicitud."
    )


# Chunked bodies, through a real HTTP server


def post_chunked(server, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    """POST ``body`` with Transfer-Encoding: chunked and no Content-Length."""
    chunks = [body[start : start + 4096] for start in range(0, len(body), 4096)]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(
            "POST",
            path,
            body=iter(chunks),
            headers={"Content-Type": "application/json", **headers},
            encode_chunked=True,
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def a_daphne_reading(server, tokens: int) -> dict:
    return {
        "room_id": server.demo["rooms"][1],
        "platform": "camsoda",
        "tokens_count": tokens,
        "tips_count": 1,
        "viewers_count": 2,
        "timestamp": time.time() - 1,
    }


def test_chunked_telemetry_is_stored(daphne_server):
    key = daphne_server.demo["device_key"]
    body = json.dumps(a_daphne_reading(daphne_server, 4_242_424)).encode()

    status, answer = post_chunked(
        daphne_server, TELEMETRY, body, {"Authorization": f"Device {key}"}
    )

    assert status == 201, answer
    assert answer["created"] == 1


def test_chunked_login_works(daphne_server):
    username, password = daphne_server.demo["staff"]
    body = json.dumps({"username": username, "password": password}).encode()

    status, answer = post_chunked(daphne_server, TOKEN, body, {})

    assert status == 200, answer
    assert answer["access"]


def test_chunked_body_over_the_limit_is_a_413(daphne_server):
    key = daphne_server.demo["device_key"]
    reading_ = a_daphne_reading(daphne_server, 1)
    body = json.dumps([{**reading_, "padding": "x" * 3000}] * 1000).encode()

    status, answer = post_chunked(
        daphne_server,
        TELEMETRY,
        body,
        {"Authorization": f"Device {key}", "Accept-Language": "en"},
    )

    assert status == 413
    assert answer["message"].startswith("The body is larger than")


# Wording and shape of the answers


def test_unknown_and_forbidden_rooms_get_the_same_404(api, room, other_room):
    make_sample(room)
    make_sample(other_room)
    _, key = factories.make_device(rooms=[room])
    api.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}

    unknown = api.get(f"{TELEMETRY}/room_nowhere/chaturbate", **english)
    forbidden = api.get(f"{TELEMETRY}/{other_room.room_id}/chaturbate", **english)

    assert unknown.status_code == forbidden.status_code == 404
    assert unknown.json()["message"] == (
        "Room “room_nowhere” not found, or you may not see it."
    )
    assert forbidden.json()["message"] == (
        f"Room “{other_room.room_id}” not found, or you may not see it."
    )


def test_other_squads_room_gets_the_same_404(api, other_room, squad_manager):
    make_sample(other_room)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(squad_manager)}")

    response = api.get(
        f"{TELEMETRY}/{other_room.room_id}/chaturbate", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 404
    assert response.json()["message"] == (
        f"Room “{other_room.room_id}” not found, or you may not see it."
    )


def test_room_404_in_spanish(api, room, squad_manager):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(squad_manager)}")

    response = api.get(f"{TELEMETRY}/room_nowhere/chaturbate")

    assert response.json()["message"] == (
        "Sala «room_nowhere» no encontrada, o usted no tiene acceso a ella."
    )


def test_415_says_which_content_type_to_send(device_api, room):
    response = device_api.post(
        TELEMETRY, data="tokens=5", content_type="text/plain", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["message"]


def test_device_on_a_foreign_room_is_told_to_ask_an_admin(api, room, squad):
    elsewhere = factories.make_room(squad=squad)
    _, key = factories.make_device(rooms=[room])
    api.credentials(HTTP_AUTHORIZATION=f"Device {key}")

    response = api.post(
        TELEMETRY, reading(elsewhere), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 403
    body = response.json()
    expected = (
        f"This device may not send data for room “{elsewhere.room_id}”. "
        "Ask an admin to add the room to this device."
    )
    assert body["message"] == expected
    assert body["errors"] == {"room_id": [expected]}


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("url", [TELEMETRY, TELEMETRY + "/"])
@pytest.mark.parametrize("credentials", ["none", "device", "user"])
def test_other_methods_on_telemetry_are_405(
    api, device_key, staff_user, method, url, credentials
):
    if credentials == "device":
        api.credentials(HTTP_AUTHORIZATION=f"Device {device_key}")
    if credentials == "user":
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(staff_user)}")

    response = getattr(api, method)(url, {}, format="json")

    assert response.status_code == 405
    assert "POST" in response["Allow"]
    assert response.json()["message"]


def test_other_methods_on_rooms_are_405(api, device_key):
    api.credentials(HTTP_AUTHORIZATION=f"Device {device_key}")

    response = api.post("/api/tracking/rooms/", {}, format="json")

    assert response.status_code == 405


@pytest.mark.parametrize(
    "path",
    ["/api/nothing", "/api/nothing/", "/api/tracking/telemetry/room_123", "/api/x/y"],
)
def test_unknown_api_url_is_a_json_404(api, path):
    response = api.get(path, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "/api/docs/" in response.json()["detail"]


def test_unknown_page_is_still_html(api):
    response = api.get("/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("item", [None, 5, "reading", []])
def test_every_batch_error_entry_is_an_object(device_api, room, item):
    response = device_api.post(TELEMETRY, [reading(room), item], format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0] == {}
    assert isinstance(errors[1], dict)
    assert list(errors[1]) == ["non_field_errors"]
    assert errors[1]["non_field_errors"][0]


def test_unknown_fields_are_ignored_and_documented(device_api, room):
    response = device_api.post(
        TELEMETRY, reading(room, source="extension 1.2"), format="json"
    )
    schema = device_api.get("/api/schema/", {"format": "json"}).json()

    assert response.status_code == 201
    description = schema["paths"]["/api/tracking/telemetry/"]["post"]["description"]
    assert "ignored" in description


@pytest.mark.parametrize("path", [TELEMETRY + "/room_123/chaturbate", HISTORY])
def test_bad_jwt_on_the_read_api_says_what_to_do(api, room, squad_manager, path):
    expired = access_token(squad_manager, seconds=-1)

    for token in ("not-a-token", expired):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        response = api.get(path, HTTP_ACCEPT_LANGUAGE="en")

        assert response.status_code == 401
        assert response.json()["message"] == (
            "The access token is invalid or expired. Log in again or refresh the token."
        )


def test_bad_jwt_on_rooms_says_what_to_do(api, room):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = api.get("/api/tracking/rooms/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 401
    assert "Log in again or refresh the token." in message_of(response)


def test_bad_refresh_token_says_to_log_in(api):
    response = api.post(
        REFRESH, {"refresh": "not-a-token"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 401
    assert message_of(response) == (
        "The refresh token is invalid or expired. Log in again."
    )


def test_room_detail_404_is_translated(api, room, other_room, squad_manager):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(squad_manager)}")
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}

    unknown = api.get("/api/tracking/rooms/room_nowhere/", **english)
    hidden = api.get(f"/api/tracking/rooms/{other_room.room_id}/", **english)

    assert unknown.status_code == hidden.status_code == 404
    assert unknown.json()["message"] == (
        "Room “room_nowhere” not found, or you may not see it."
    )
    assert hidden.json()["message"] == (
        f"Room “{other_room.room_id}” not found, or you may not see it."
    )
