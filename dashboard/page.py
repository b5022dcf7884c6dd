"""Squads, room cards and platform rows as the God Mode template draws them.

The page is useful before its socket connects: every value, the time since
each reading and the live/stale state are computed here from the same
snapshot the socket sends. ``godmode.js`` then keeps them current with the
same rules and labels (``STALE_AFTER_SECONDS``, ``age_formats``,
``state_labels``), which the view hands to the script.
"""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils.formats import number_format
from django.utils.translation import gettext

from dashboard.snapshot import Visibility
from tracking.models import Room, Squad
from tracking.platforms import PLATFORMS, Platform

# A row whose newest reading is older than this many seconds is drawn as stale.
# The extension's heartbeat must stay below it, or a quiet but live room turns
# stale for a moment before each heartbeat.
STALE_AFTER_SECONDS = 30

LIVE = "live"
STALE = "stale"
EMPTY = "empty"

COUNT_FIELDS = (
    ("tokens", "tokens_count"),
    ("tips", "tips_count"),
    ("viewers", "viewers_count"),
)


def state_labels() -> dict[str, str]:
    return {
        LIVE: gettext("Live"),
        STALE: gettext("No recent update"),
        EMPTY: gettext("No data yet"),
    }


def age_formats() -> dict[str, str]:
    """Return the "time since" templates, where ``%(count)s`` is a whole number."""
    return {
        "seconds": gettext("%(count)s s ago"),
        "minutes": gettext("%(count)s min ago"),
        "hours": gettext("%(count)s h ago"),
        "days": gettext("%(count)s d ago"),
        "never": gettext("never"),
    }


def format_age(seconds: float | None) -> str:
    """Format an age in the largest whole unit, as ``godmode.js`` does.

    A reading stamped slightly ahead of the server clock counts as 0 s old.
    """
    formats = age_formats()
    if seconds is None:
        return formats["never"]

    whole = max(0, int(seconds))
    if whole < 60:
        return formats["seconds"] % {"count": whole}
    if whole < 3600:
        return formats["minutes"] % {"count": whole // 60}
    if whole < 86400:
        return formats["hours"] % {"count": whole // 3600}
    return formats["days"] % {"count": whole // 86400}


def format_count(value: int) -> str:
    # Grouping is forced so that "12 400" reads at a glance whatever
    # USE_THOUSAND_SEPARATOR is set to. godmode.js groups with the same separator.
    return number_format(value, force_grouping=True)


@dataclass
class CountCell:
    field: str
    value: int | None

    @property
    def display(self) -> str:
        return "—" if self.value is None else format_count(self.value)


@dataclass
class PlatformRow:
    platform: Platform
    timestamp: float | None
    cells: list[CountCell]
    state: str
    age_label: str

    @property
    def read_at(self) -> datetime | None:
        if self.timestamp is None:
            return None
        return datetime.fromtimestamp(self.timestamp, tz=UTC)


@dataclass
class RoomCard:
    room: Room
    rows: list[PlatformRow]
    state: str
    state_label: str

    @property
    def goal_display(self) -> str:
        return format_count(self.room.daily_token_goal)


@dataclass
class SquadSection:
    squad: Squad
    rooms: list[RoomCard] = field(default_factory=list)

    @property
    def goal_display(self) -> str:
        return format_count(self.squad.daily_token_goal)


@dataclass
class GodModePage:
    squads: list[SquadSection]
    state_counts: dict[str, int]

    @property
    def room_count(self) -> int:
        return sum(len(section.rooms) for section in self.squads)


def build_page(
    visibility: Visibility, readings: list[dict], *, now: float | None = None
) -> GodModePage:
    """Arrange the visible squads and rooms, with one row per platform.

    Every registry platform gets a row, so the script finds a cell to update
    when a room goes live on a platform it has not used yet. Squads without
    active rooms are kept, so their managers see why nothing is drawn.
    """
    now = time.time() if now is None else now
    labels = state_labels()
    by_pair = {(r["room_id"], r["platform"]): r for r in readings}
    sections = {
        squad.pk: SquadSection(squad=squad)
        for squad in Squad.objects.filter(pk__in=visibility.squad_ids)
    }

    for room in visibility.rooms:
        rows = [
            _platform_row(platform, by_pair.get((room.room_id, slug)), now)
            for slug, platform in PLATFORMS.items()
        ]
        state = room_state([row.state for row in rows])
        card = RoomCard(room=room, rows=rows, state=state, state_label=labels[state])
        sections[room.squad_id].rooms.append(card)

    squads = sorted(sections.values(), key=lambda section: section.squad.name)
    counts = {LIVE: 0, STALE: 0, EMPTY: 0}
    for section in squads:
        for card in section.rooms:
            counts[card.state] += 1
    return GodModePage(squads=squads, state_counts=counts)


def room_state(row_states: list[str]) -> str:
    """Return a room's state: live if any platform is, else stale if any has data."""
    if LIVE in row_states:
        return LIVE
    if STALE in row_states:
        return STALE
    return EMPTY


def _platform_row(platform: Platform, reading: dict | None, now: float) -> PlatformRow:
    if reading is None:
        cells = [CountCell(field=name, value=None) for name, _ in COUNT_FIELDS]
        return PlatformRow(
            platform=platform,
            timestamp=None,
            cells=cells,
            state=EMPTY,
            age_label=format_age(None),
        )

    age = now - reading["timestamp"]
    cells = [CountCell(field=name, value=reading[key]) for name, key in COUNT_FIELDS]
    return PlatformRow(
        platform=platform,
        timestamp=reading["timestamp"],
        cells=cells,
        state=STALE if age > STALE_AFTER_SECONDS else LIVE,
        age_label=format_age(age),
    )
