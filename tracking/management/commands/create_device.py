from django.core.management.base import BaseCommand, CommandError

from tracking.devices import create_device
from tracking.models import Room


class Command(BaseCommand):
    help = (
        "Create a room device and print its ingest key alone on stdout. The key "
        "is shown only this once; only its hash is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Device name, for example 'PC sala 3'.")
        parser.add_argument(
            "--room",
            action="append",
            dest="rooms",
            default=[],
            metavar="ROOM_ID",
            help="Limit the device to this room; repeat for several rooms.",
        )

    def handle(self, *args, name: str, rooms: list[str], **options):
        if not name.strip():
            raise CommandError(
                "The device name is empty; pass a name such as 'PC sala 3'."
            )

        found = list(Room.objects.filter(room_id__in=rooms))
        unknown = sorted(set(rooms) - {room.room_id for room in found})
        if unknown:
            raise CommandError(
                f"Unknown room ID(s): {', '.join(unknown)}. List rooms in the admin."
            )

        _, key = create_device(name=name.strip(), rooms=found)
        self.stdout.write(key)
