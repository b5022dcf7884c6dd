"""Management commands: create_device and seed_demo."""

import hashlib
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.factories import reading
from tracking.management.commands import seed_demo
from tracking.models import Device, Room, Squad

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_device_prints_only_the_key(api, room, capsys):
    output = run("create_device", "PC sala 3")

    lines = output.splitlines()
    assert len(lines) == 1
    key = lines[0]
    assert len(key) >= 40
    assert " " not in key
    # Nothing else reaches stdout, so `KEY=$(manage.py create_device ...)` works.
    assert capsys.readouterr().out == ""
    device = Device.objects.get(name="PC sala 3")
    assert device.key_hash == hashlib.sha256(key.encode()).hexdigest()

    api.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    assert (
        api.post("/api/tracking/telemetry", reading(room), format="json").status_code
        == 201
    )


def test_create_device_limits_rooms(api, room, other_room):
    key = run("create_device", "PC sala 1", "--room", room.room_id).strip()

    device = Device.objects.get(name="PC sala 1")
    assert list(device.allowed_rooms.all()) == [room]
    api.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    denied = api.post("/api/tracking/telemetry", reading(other_room), format="json")
    assert denied.status_code == 403


def test_create_device_takes_several_rooms(room, other_room):
    run("create_device", "PC", "--room", room.room_id, "--room", other_room.room_id)

    assert set(Device.objects.get().allowed_rooms.all()) == {room, other_room}


def test_create_device_refuses_an_unknown_room(room):
    with pytest.raises(CommandError, match="room_nowhere"):
        run("create_device", "PC", "--room", room.room_id, "--room", "room_nowhere")

    assert not Device.objects.exists()


def test_create_device_refuses_an_empty_name():
    with pytest.raises(CommandError):
        run("create_device", "   ")

    assert not Device.objects.exists()


def test_seed_demo_creates_the_demo_data():
    output = run("seed_demo", "--password", "demo-pass-123")

    squad = Squad.objects.get(name=seed_demo.DEMO_SQUAD)
    assert sorted(Room.objects.values_list("room_id", flat=True)) == [
        "room_101",
        "room_102",
        "room_103",
    ]
    users = get_user_model().objects
    staff = users.get(username=seed_demo.STAFF_USERNAME)
    manager = users.get(username=seed_demo.MANAGER_USERNAME)
    assert staff.is_staff and staff.is_superuser
    assert not manager.is_staff
    assert list(squad.managers.all()) == [manager]
    assert manager.check_password("demo-pass-123")
    assert "demo-pass-123" in output
    assert Device.objects.filter(name=seed_demo.DEMO_DEVICE).count() == 1
    assert "Device key" in output


def test_seed_demo_prints_random_passwords_that_work():
    output = run("seed_demo")

    manager = get_user_model().objects.get(username=seed_demo.MANAGER_USERNAME)
    printed = next(
        line for line in output.splitlines() if line.startswith("Manager login")
    )
    password = printed.rsplit(" / ", 1)[1]
    assert manager.check_password(password)


def test_seed_demo_rerun_creates_nothing():
    first = run("seed_demo", "--password", "demo-pass-123")
    counts = (
        Squad.objects.count(),
        Room.objects.count(),
        Device.objects.count(),
        get_user_model().objects.count(),
    )
    key = first.split("Device key")[1].split(": ", 1)[1].splitlines()[0]

    second = run("seed_demo", "--password", "demo-pass-123")

    assert (
        Squad.objects.count(),
        Room.objects.count(),
        Device.objects.count(),
        get_user_model().objects.count(),
    ) == counts
    assert "demo-pass-123" not in second
    assert key not in second
    assert "exists" in second


def test_migrations_match_the_models():
    # Fails when a model changed without a migration.
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())
