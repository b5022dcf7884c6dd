import os
import secrets
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from tracking.devices import create_device
from tracking.models import Device, Room, Squad

DEMO_SQUAD = "Escuadrón Norte"
DEMO_ROOMS = [
    ("room_101", "Sala 101", 2000),
    ("room_102", "Sala 102", 1500),
    ("room_103", "Sala 103", 1800),
]
DEMO_DEVICE = "PC demo"
STAFF_USERNAME = "admin"
MANAGER_USERNAME = "manager"


class Command(BaseCommand):
    help = (
        "Create demo data: a staff login, a manager with one squad, three rooms "
        "and one device. Safe to run again: existing rows are kept, and "
        "passwords and keys are printed only when they are created."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="Password for both demo logins; a random one is made when omitted.",
        )

    @transaction.atomic
    def handle(self, *args, password: str | None, **options):
        squad, _ = Squad.objects.get_or_create(
            name=DEMO_SQUAD, defaults={"daily_token_goal": 5000}
        )
        for room_id, name, goal in DEMO_ROOMS:
            Room.objects.get_or_create(
                room_id=room_id,
                defaults={"name": name, "squad": squad, "daily_token_goal": goal},
            )

        staff_password = self._ensure_user(STAFF_USERNAME, password, is_staff=True)
        manager_password = self._ensure_user(MANAGER_USERNAME, password, is_staff=False)
        manager = get_user_model().objects.get(username=MANAGER_USERNAME)
        squad.managers.add(manager)

        device_key = None
        if not Device.objects.filter(name=DEMO_DEVICE).exists():
            _, device_key = create_device(name=DEMO_DEVICE)

        self._report("Staff login", STAFF_USERNAME, staff_password)
        self._report("Manager login", MANAGER_USERNAME, manager_password)
        if device_key:
            self.stdout.write(f"Device key ({DEMO_DEVICE}): {device_key}")
        else:
            self.stdout.write(
                f"Device '{DEMO_DEVICE}' exists; create a new key with: "
                f"{_manage_command()} create_device NAME"
            )
        rooms = ", ".join(room_id for room_id, _, _ in DEMO_ROOMS)
        self.stdout.write(f"Squad '{DEMO_SQUAD}' with rooms {rooms}")
        if staff_password or manager_password or device_key:
            self.stdout.write(
                "Save these now: passwords and keys are shown only this once."
            )

    def _ensure_user(self, username: str, password: str | None, *, is_staff: bool):
        """Create the user if missing and return its new password, else None."""
        users = get_user_model().objects
        if users.filter(username=username).exists():
            return None
        chosen = password or secrets.token_urlsafe(12)
        if is_staff:
            users.create_superuser(username=username, password=chosen, email="")
        else:
            users.create_user(username=username, password=chosen)
        return chosen

    def _report(self, label: str, username: str, password: str | None) -> None:
        if password:
            self.stdout.write(f"{label}: {username} / {password}")
        else:
            self.stdout.write(
                f"{label}: {username} (exists; change its password with "
                f"{_manage_command()} changepassword {username})"
            )


def _manage_command() -> str:
    """Return how to call manage.py with the Python running this command.

    ``make run`` uses the project's ``.venv``, whose Python the reader must call
    too: the system Python has no Django.
    """
    python = sys.executable
    relative = os.path.relpath(python)
    if not relative.startswith(".."):
        python = relative
    return f"{python} manage.py"
