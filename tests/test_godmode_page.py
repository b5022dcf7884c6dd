"""The God Mode page and its token endpoint, through Django's test client.

Personas: staff see every squad, a squad's manager sees only that squad, and
an outsider who manages no squad sees an explanation instead of rooms.
"""

import json
import re
import time
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import translation
from rest_framework_simplejwt.tokens import AccessToken

from dashboard.page import format_age
from tests import factories
from tracking.models import TelemetrySample

pytestmark = pytest.mark.django_db

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
TOKEN_URL = "/dashboard/token/"


@pytest.fixture
def other_manager(db):
    return factories.make_user(username="manager_sur")


@pytest.fixture
def other_squad(other_manager):
    return factories.make_squad(managers=[other_manager], name="Sur")


@pytest.fixture
def other_room(other_squad):
    return factories.make_room(squad=other_squad, room_id="room_900", name="Sala 900")


@pytest.fixture
def staff(db):
    return factories.make_user(staff=True, username="jefe")


@pytest.fixture
def outsider(db):
    return factories.make_user(username="visitante")


def logged_in(user, **client_options) -> Client:
    client = Client(**client_options)
    client.force_login(user)
    return client


def store_sample(room, *, age_seconds: float, platform="chaturbate", **counts):
    moment = datetime.fromtimestamp(int(time.time() - age_seconds), tz=UTC)
    return TelemetrySample.objects.create(
        room=room,
        platform=platform,
        tokens_count=counts.get("tokens", 1200),
        tips_count=counts.get("tips", 15),
        viewers_count=counts.get("viewers", 48),
        timestamp=moment,
    )


def script_config(response) -> dict:
    match = re.search(
        r'<script id="godmode-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.DOTALL,
    )
    assert match is not None, "the page has no godmode-config block"
    return json.loads(match.group(1))


def row_html(response, room_id: str, platform: str) -> str:
    match = re.search(
        rf'<tr id="row-{room_id}-{platform}".*?</tr>',
        response.content.decode(),
        re.DOTALL,
    )
    assert match is not None, f"no row for {room_id}/{platform}"
    return match.group(0)


# ---- Access -----------------------------------------------------------------


def test_page_requires_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_login_page_renders_form(client):
    response = client.get("/accounts/login/?next=/", **ENGLISH)

    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    assert 'name="password"' in response.content.decode()
    assert 'name="next" value="/"' in response.content.decode()
    assert b'<html lang="en">' in response.content


def test_login_form_logs_in_and_redirects(client, squad_manager):
    response = client.post(
        "/accounts/login/",
        {"username": "manager_norte", "password": "pass-for-tests", "next": "/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_form_shows_wrong_password(client, squad_manager):
    response = client.post(
        "/accounts/login/",
        {"username": "manager_norte", "password": "wrong"},
        **ENGLISH,
    )

    assert response.status_code == 200
    assert 'class="form-error" role="alert"' in response.content.decode()
    assert 'value="manager_norte"' in response.content.decode()


def test_staff_sees_every_squad(staff, room, other_room):
    response = logged_in(staff).get("/")

    assert response.status_code == 200
    assert 'id="room-room_123"' in response.content.decode()
    assert 'id="room-room_900"' in response.content.decode()
    assert "Norte" in response.content.decode()
    assert "Sur" in response.content.decode()


def test_admin_link_only_for_staff(staff, squad_manager, room):
    staff_page = logged_in(staff).get("/").content.decode()
    manager_page = logged_in(squad_manager).get("/").content.decode()

    assert 'class="admin-link" href="/admin/"' in staff_page
    assert 'class="admin-link"' not in manager_page


def test_manager_sees_only_own_squads(squad_manager, room, other_room):
    response = logged_in(squad_manager).get("/")

    assert response.status_code == 200
    assert 'id="room-room_123"' in response.content.decode()
    assert 'id="room-room_900"' not in response.content.decode()
    assert "Sala 900" not in response.content.decode()


def test_outsider_sees_empty_message(outsider, room):
    response = logged_in(outsider).get("/", **ENGLISH)

    assert response.status_code == 200
    assert "You do not manage any squad yet." in response.content.decode()
    assert 'id="room-room_123"' not in response.content.decode()
    # With nothing to watch the page opens no socket and shows no badge.
    assert "godmode.js" not in response.content.decode()
    assert 'id="connection"' not in response.content.decode()


def test_squad_without_active_rooms_says_so(squad_manager, squad):
    factories.make_room(squad=squad, room_id="room_closed", is_active=False)

    response = logged_in(squad_manager).get("/", **ENGLISH)

    assert "This squad has no active rooms." in response.content.decode()
    assert 'id="room-room_closed"' not in response.content.decode()


# ---- Rendered values --------------------------------------------------------


def test_page_renders_latest_values(squad_manager, room):
    store_sample(room, age_seconds=60, tokens=1000)
    store_sample(room, age_seconds=3, tokens=12400, tips=37, viewers=212)

    response = logged_in(squad_manager).get("/", **ENGLISH)
    row = row_html(response, "room_123", "chaturbate")

    assert 'data-state="live"' in row
    assert 'data-value="12400">12,400</td>' in row
    assert 'id="cell-room_123-chaturbate-tips"' in row
    assert 'data-value="37">37</td>' in row
    assert 'data-value="212">212</td>' in row
    assert re.search(r">\d s ago</td>", row)


def test_every_platform_gets_a_row(squad_manager, room):
    response = logged_in(squad_manager).get("/", **ENGLISH)

    for platform in ("chaturbate", "stripchat", "camsoda"):
        row = row_html(response, "room_123", platform)
        assert 'data-state="empty"' in row
        assert ">never</td>" in row


def test_old_reading_renders_stale(squad_manager, room):
    store_sample(room, age_seconds=125, platform="stripchat")

    response = logged_in(squad_manager).get("/", **ENGLISH)
    row = row_html(response, "room_123", "stripchat")

    assert 'class="platform-row is-stale"' in row
    assert 'data-state="stale"' in row
    assert ">2 min ago</td>" in row
    assert (
        'id="status-room_123" data-state="stale">No recent update</span>'
        in response.content.decode()
    )
    assert '<dd id="count-stale">1</dd>' in response.content.decode()


def test_live_platform_makes_room_live(squad_manager, room):
    store_sample(room, age_seconds=300, platform="stripchat")
    store_sample(room, age_seconds=2, platform="camsoda")

    response = logged_in(squad_manager).get("/", **ENGLISH)

    assert (
        'id="status-room_123" data-state="live">Live</span>'
        in response.content.decode()
    )
    assert '<dd id="count-live">1</dd>' in response.content.decode()
    assert '<dd id="count-stale">0</dd>' in response.content.decode()


def test_goals_are_shown(squad_manager, squad):
    squad.daily_token_goal = 5000
    squad.save()
    factories.make_room(squad=squad, room_id="room_goal", daily_token_goal=1800)

    response = logged_in(squad_manager).get("/", **ENGLISH)

    assert "Squad daily goal: <strong>5,000</strong> tokens" in (
        response.content.decode()
    )
    assert "Daily goal: <strong>1,800</strong> tokens" in response.content.decode()


def test_spanish_is_the_default(squad_manager, room):
    store_sample(room, age_seconds=3, tokens=12400)

    response = logged_in(squad_manager).get("/")
    row = row_html(response, "room_123", "chaturbate")

    assert b'<html lang="es">' in response.content
    # Spanish groups thousands with a dot, as Colombian figures are written.
    assert 'data-value="12400">12.400</td>' in row
    assert script_config(response)["language"] == "es"


def test_english_when_the_browser_asks(squad_manager, room):
    response = logged_in(squad_manager).get("/", **ENGLISH)

    assert b'<html lang="en">' in response.content
    assert 'id="connection"' in response.content.decode()
    assert ">Connecting…</span>" in response.content.decode()


def test_script_config(squad_manager, room):
    response = logged_in(squad_manager).get("/", **ENGLISH)
    config = script_config(response)

    assert config["socketPath"] == "/ws/dashboard/"
    assert config["tokenUrl"] == TOKEN_URL
    assert config["loginUrl"] == "/accounts/login/?next=%2F"
    assert config["staleAfterSeconds"] == 30
    assert config["thousandSeparator"] == ","
    assert abs(config["serverTime"] - time.time()) < 5
    assert config["labels"]["connection"]["connected"] == "Connected"
    assert config["labels"]["states"]["stale"] == "No recent update"
    assert config["labels"]["age"]["seconds"] == "%(count)s s ago"
    assert "%(seconds)s" in config["labels"]["retryIn"]


@pytest.mark.parametrize(
    ("seconds", "label"),
    [
        (None, "never"),
        (-4, "0 s ago"),
        (0, "0 s ago"),
        (59.9, "59 s ago"),
        (60, "1 min ago"),
        (3599, "59 min ago"),
        (3600, "1 h ago"),
        (86399, "23 h ago"),
        (86400, "1 d ago"),
    ],
)
def test_format_age(seconds, label):
    with translation.override("en"):
        assert format_age(seconds) == label


# ---- Token endpoint ---------------------------------------------------------


def csrf_client(user=None) -> tuple[Client, str]:
    """Return a client that enforces CSRF checks and the CSRF token it holds."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    client.get("/accounts/login/")
    return client, client.cookies["csrftoken"].value


def test_token_requires_login(db):
    client, csrf = csrf_client()

    response = client.post(TOKEN_URL, HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == 401
    assert "detail" in response.json()


def test_token_requires_post(squad_manager):
    response = logged_in(squad_manager).get(TOKEN_URL)

    assert response.status_code == 405


def test_token_requires_csrf(squad_manager):
    client, _ = csrf_client(squad_manager)

    response = client.post(TOKEN_URL)

    assert response.status_code == 403


def test_token_is_for_the_user(squad_manager, settings):
    settings.DASHBOARD_TOKEN_SECONDS = 42
    client, csrf = csrf_client(squad_manager)

    before = time.time()
    response = client.post(TOKEN_URL, HTTP_X_CSRFTOKEN=csrf)
    body = response.json()
    token = AccessToken(body["access"])

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert str(token["user_id"]) == str(squad_manager.pk)
    assert body["expires_at"] == token["exp"]
    assert body["expires_in"] == 42
    assert token["exp"] - token["iat"] == 42
    assert int(before) + 42 <= token["exp"] <= time.time() + 42
