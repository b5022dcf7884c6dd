"""Reading telemetry back: latest, history, rooms, JWT and the OpenAPI schema."""

import time

import pytest
from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema

from tests import factories
from tests.factories import access_token, make_sample, reading
from tracking import latest

pytestmark = pytest.mark.django_db

NOW = int(time.time())


def latest_url(room_id: str, platform: str = "chaturbate") -> str:
    return f"/api/tracking/telemetry/{room_id}/{platform}"


def as_user(api, user):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
    return api


def as_device(api, key: str):
    api.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    return api


# Latest reading


def test_latest_returns_the_newest_reading(api, room, squad_manager):
    make_sample(room, at=NOW - 60, tokens=100)
    make_sample(room, at=NOW - 10, tokens=150, tips=3, viewers=20)
    make_sample(room, at=NOW - 5, tokens=999, platform="stripchat")

    response = as_user(api, squad_manager).get(latest_url(room.room_id))

    assert response.status_code == 200
    assert response.json() == {
        "room_id": room.room_id,
        "platform": "chaturbate",
        "tokens_count": 150,
        "tips_count": 3,
        "viewers_count": 20,
        "timestamp": NOW - 10,
    }


def test_latest_reads_the_cache_before_the_database(api, room, squad_manager):
    make_sample(room, at=NOW - 10, tokens=150)
    # A value only the cache holds: if the database were read, 150 would show.
    latest.remember(reading(room, tokens_count=777, timestamp=NOW - 10))

    response = as_user(api, squad_manager).get(latest_url(room.room_id))

    assert response.json()["tokens_count"] == 777


def test_latest_falls_back_to_database(api, room, squad_manager):
    make_sample(room, at=NOW - 10, tokens=150)
    latest.forget_all()

    response = as_user(api, squad_manager).get(latest_url(room.room_id))

    assert response.json()["tokens_count"] == 150
    cached = latest.recall_many([(room.room_id, "chaturbate")])
    assert cached[(room.room_id, "chaturbate")]["tokens_count"] == 150


def test_latest_after_ingest_and_an_emptied_cache(
    api, room, device_key, squad_manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        as_device(api, device_key).post(
            "/api/tracking/telemetry",
            reading(room, tokens_count=4321, timestamp=NOW),
            format="json",
        )
    assert latest.recall_many([(room.room_id, "chaturbate")])
    latest.forget_all()

    response = as_user(api, squad_manager).get(latest_url(room.room_id))

    assert response.status_code == 200
    assert response.json()["tokens_count"] == 4321


def test_latest_404_without_reading(api, room, squad_manager):
    make_sample(room, platform="stripchat")

    response = as_user(api, squad_manager).get(latest_url(room.room_id))

    assert response.status_code == 404
    assert response.json()["message"]


@pytest.mark.parametrize(
    "path",
    ["/api/tracking/telemetry/room_nowhere/chaturbate", latest_url("room_123", "tv")],
)
def test_latest_is_404_for_unknown_room_or_platform(api, room, squad_manager, path):
    make_sample(room)

    assert as_user(api, squad_manager).get(path).status_code == 404


def test_latest_404_for_other_squad(api, room, other_manager):
    make_sample(room)

    response = as_user(api, other_manager).get(latest_url(room.room_id))

    assert response.status_code == 404


def test_latest_is_404_for_a_user_without_squads(api, room, outsider):
    make_sample(room)

    assert as_user(api, outsider).get(latest_url(room.room_id)).status_code == 404


def test_staff_reads_the_latest_of_any_room(api, room, staff_user):
    make_sample(room)

    assert as_user(api, staff_user).get(latest_url(room.room_id)).status_code == 200


def test_latest_needs_credentials(api, room):
    make_sample(room)

    assert api.get(latest_url(room.room_id)).status_code in (401, 403)


def test_device_reads_the_latest_of_its_rooms(api, room, other_room):
    _, key = factories.make_device(rooms=[room])
    make_sample(room, tokens=321)
    make_sample(other_room)

    own = as_device(api, key).get(latest_url(room.room_id))
    foreign = api.get(latest_url(other_room.room_id))

    assert own.status_code == 200
    assert own.json()["tokens_count"] == 321
    assert foreign.status_code == 404


def test_unrestricted_device_reads_any_room(api, room, other_room, device_key):
    make_sample(other_room)

    response = as_device(api, device_key).get(latest_url(other_room.room_id))

    assert response.status_code == 200


# History


def timestamps(response) -> list[float]:
    return [item["timestamp"] for item in response.json()["results"]]


def test_history_lists_the_users_rooms_newest_first(
    api, room, other_room, squad_manager
):
    make_sample(room, at=NOW - 30)
    make_sample(room, at=NOW - 10)
    make_sample(other_room, at=NOW - 20)

    response = as_user(api, squad_manager).get("/api/tracking/telemetry/")

    assert response.status_code == 200
    assert timestamps(response) == [NOW - 10, NOW - 30]
    first = response.json()["results"][0]
    assert first["room_id"] == room.room_id
    assert set(first) == {
        "room_id",
        "platform",
        "tokens_count",
        "tips_count",
        "viewers_count",
        "timestamp",
        "received_at",
    }


def test_history_of_a_user_without_squads_is_empty(api, room, outsider):
    make_sample(room)

    response = as_user(api, outsider).get("/api/tracking/telemetry/")

    assert response.json()["results"] == []


def test_history_filters_by_room_platform_and_time(api, room, squad, staff_user):
    second_room = factories.make_room(squad=squad)
    make_sample(room, at=NOW - 40)
    make_sample(room, at=NOW - 30, platform="camsoda")
    make_sample(room, at=NOW - 20)
    make_sample(room, at=NOW - 10)
    make_sample(second_room, at=NOW - 15)
    client = as_user(api, staff_user)

    by_room = client.get("/api/tracking/telemetry/", {"room": room.room_id})
    by_platform = client.get(
        "/api/tracking/telemetry/", {"room": room.room_id, "platform": "camsoda"}
    )
    by_time = client.get(
        "/api/tracking/telemetry/",
        {"room": room.room_id, "since": NOW - 30, "until": NOW - 10},
    )

    assert timestamps(by_room) == [NOW - 10, NOW - 20, NOW - 30, NOW - 40]
    assert timestamps(by_platform) == [NOW - 30]
    # since is inclusive and until exclusive.
    assert timestamps(by_time) == [NOW - 20, NOW - 30]


def test_history_pages_with_a_cursor(api, room, staff_user):
    for offset in range(5):
        make_sample(room, at=NOW - offset)
    client = as_user(api, staff_user)

    seen = []
    url = "/api/tracking/telemetry/?page_size=2"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 2
        seen += [item["timestamp"] for item in page["results"]]
        url = page["next"]

    assert seen == [NOW - offset for offset in range(5)]


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("platform", "onlyfans"),
        ("since", "yesterday"),
        ("until", "nan"),
        ("since", "1e400"),
    ],
)
def test_history_rejects_a_bad_filter_and_names_it(api, staff_user, parameter, value):
    response = as_user(api, staff_user).get(
        "/api/tracking/telemetry/", {parameter: value}
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [parameter]


def test_history_rejects_a_forged_cursor(api, staff_user):
    response = as_user(api, staff_user).get("/api/tracking/telemetry/?cursor=zzz")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["cursor"]


def test_device_cannot_list_history(api, device_key):
    response = as_device(api, device_key).get("/api/tracking/telemetry/")

    assert response.status_code == 403


# Rooms


def room_ids(response) -> set[str]:
    assert response.status_code == 200
    return {item["room_id"] for item in response.json()}


@pytest.fixture
def closed_room(squad):
    return factories.make_room(squad=squad, room_id="room_closed", is_active=False)


def test_device_lists_every_active_room(api, device_key, room, other_room, closed_room):
    response = as_device(api, device_key).get("/api/tracking/rooms/")

    assert room_ids(response) == {room.room_id, other_room.room_id}
    assert response.json()[0].keys() == {
        "room_id",
        "name",
        "squad",
        "daily_token_goal",
        "is_active",
    }


def test_limited_device_lists_its_rooms(api, room, other_room):
    _, key = factories.make_device(rooms=[room])

    assert room_ids(as_device(api, key).get("/api/tracking/rooms/")) == {room.room_id}


def test_staff_lists_every_room(api, staff_user, room, other_room, closed_room):
    response = as_user(api, staff_user).get("/api/tracking/rooms/")

    assert room_ids(response) == {room.room_id, other_room.room_id, "room_closed"}


def test_manager_lists_the_squads_rooms(api, squad_manager, room, other_room):
    response = as_user(api, squad_manager).get("/api/tracking/rooms/")

    assert room_ids(response) == {room.room_id}


def test_outsider_lists_no_room(api, outsider, room):
    assert room_ids(as_user(api, outsider).get("/api/tracking/rooms/")) == set()


def test_rooms_need_credentials(api, room):
    assert api.get("/api/tracking/rooms/").status_code in (401, 403)


def test_rooms_reject_a_wrong_device_key(api, room):
    assert as_device(api, "nope").get("/api/tracking/rooms/").status_code == 401


# JWT


def test_obtains_refreshes_and_uses_a_jwt(api, room, squad_manager):
    obtained = api.post(
        "/api/auth/token/",
        {"username": squad_manager.username, "password": "pass-for-tests"},
        format="json",
    )
    assert obtained.status_code == 200
    tokens = obtained.json()

    refreshed = api.post(
        "/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200
    access = refreshed.json()["access"]

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert room_ids(api.get("/api/tracking/rooms/")) == {room.room_id}


def test_rejects_a_wrong_password(api, squad_manager):
    response = api.post(
        "/api/auth/token/",
        {"username": squad_manager.username, "password": "wrong"},
        format="json",
    )

    assert response.status_code == 401
    assert "access" not in response.json()


def test_rejects_a_forged_or_expired_access_token(api, room, squad_manager):
    expired = access_token(squad_manager, seconds=-1)

    for token in ("not-a-token", expired):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert api.get("/api/tracking/rooms/").status_code == 401


# OpenAPI


def test_schema_is_valid_openapi(api):
    response = api.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    assert "/api/tracking/telemetry/" in schema["paths"]
    assert "post" in schema["paths"]["/api/tracking/telemetry/"]
    assert "deviceKey" in schema["components"]["securitySchemes"]


def test_docs_page_renders(api):
    response = api.get("/api/docs/")

    assert response.status_code == 200
    assert b"/api/schema/" in response.content


def test_docs_page_loads_swagger_locally(api):
    response = api.get("/api/docs/")
    html = response.content.decode()

    assert "cdn.jsdelivr.net" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    bundle = finders.find(
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    )
    assert bundle is not None
