"""Visibility on God Mode: the squads, rooms and newest readings a user may see."""

from dataclasses import dataclass, field

from tracking.models import Room, Squad
from tracking.selectors import latest_readings


@dataclass
class Visibility:
    squad_ids: list[int]
    rooms: list[Room] = field(default_factory=list)


def visibility_for(user) -> Visibility:
    """Squads whose events the user receives and the rooms drawn for them.

    Staff see every squad; a manager or monitor sees the squads they manage.
    Inactive rooms are left out of the page but still count for access.
    """
    squads = (
        Squad.objects.all() if user.is_staff else Squad.objects.filter(managers=user)
    )
    squad_ids = list(squads.values_list("pk", flat=True))
    rooms = list(
        Room.objects.filter(squad_id__in=squad_ids, is_active=True).select_related(
            "squad"
        )
    )
    return Visibility(squad_ids=squad_ids, rooms=rooms)


def room_summary(room: Room) -> dict:
    return {
        "room_id": room.room_id,
        "name": room.name,
        "squad": room.squad.name,
        "squad_id": room.squad_id,
        "daily_token_goal": room.daily_token_goal,
    }


def snapshot_state(visibility: Visibility) -> tuple[list[dict], list[dict]]:
    """Return ``(rooms, readings)`` for the rooms in ``visibility``."""
    rooms = [room_summary(room) for room in visibility.rooms]
    return rooms, latest_readings(visibility.rooms)
