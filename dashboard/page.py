"""Arrangement of squads, rooms and platform rows for the God Mode template."""

from collections import defaultdict

from dashboard.snapshot import Visibility
from tracking.platforms import PLATFORMS


def build_page_squads(visibility: Visibility, readings: list[dict]) -> list[dict]:
    """Group rooms by squad, with one row per platform and its newest reading.

    Every platform gets a row, so a cell exists for the script to update
    before the room's first reading on that platform arrives.
    """
    by_pair = {(r["room_id"], r["platform"]): r for r in readings}
    squads: dict[int, dict] = {}
    rooms_by_squad: dict[int, list] = defaultdict(list)

    for room in visibility.rooms:
        squads.setdefault(room.squad_id, {"squad": room.squad})
        rows = [
            {
                "platform": platform,
                "reading": by_pair.get((room.room_id, platform.slug)),
            }
            for platform in PLATFORMS.values()
        ]
        rooms_by_squad[room.squad_id].append({"room": room, "rows": rows})

    page = []
    for squad_id, entry in sorted(
        squads.items(), key=lambda item: item[1]["squad"].name
    ):
        page.append({"squad": entry["squad"], "rooms": rooms_by_squad[squad_id]})
    return page
