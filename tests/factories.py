"""Builders for test data; each call makes fresh, unique rows."""

import itertools
import time
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import AccessToken

from tracking.devices import create_device
from tracking.models import Room, Squad, TelemetrySample

_sequence = itertools.count(1)


def make_user(*, staff: bool = False, username: str | None = None):
    name = username or f"user{next(_sequence)}"
    return get_user_model().objects.create_user(
        username=name, password="pass-for-tests", is_staff=staff
    )


def make_squad(*, managers=(), name: str | None = None, goal: int = 1000) -> Squad:
    squad = Squad.objects.create(
        name=name or f"Squad {next(_sequence)}", daily_token_goal=goal
    )
    squad.managers.set(managers)
    return squad


def make_room(
    *, squad: Squad | None = None, room_id: str | None = None, **fields
) -> Room:
    number = next(_sequence)
    return Room.objects.create(
        room_id=room_id or f"room_x{number}",
        name=fields.pop("name", f"Sala {number}"),
        squad=squad or make_squad(),
        **fields,
    )


def make_device(*, rooms=None, name: str = "PC test"):
    """Return ``(device, key)``."""
    return create_device(name=name, rooms=rooms)


def reading(room: Room, **overrides) -> dict:
    """A valid posted reading for ``room``; overrides replace any field."""
    body = {
        "room_id": room.room_id,
        "platform": "chaturbate",
        "tokens_count": 1200,
        "tips_count": 15,
        "viewers_count": 48,
        "timestamp": int(time.time()) - next(_sequence),
    }
    body.update(overrides)
    return body


def access_token(user, *, seconds: float | None = None) -> str:
    """A JWT access token for ``user``; ``seconds`` shortens its lifetime."""
    token = AccessToken.for_user(user)
    if seconds is not None:
        token.set_exp(lifetime=timedelta(seconds=seconds))
    return str(token)


def make_sample(
    room: Room,
    *,
    platform: str = "chaturbate",
    at: float | None = None,
    tokens: int = 1000,
    tips: int = 10,
    viewers: int = 30,
    device=None,
) -> TelemetrySample:
    """Store a sample directly, as if ingested; ``at`` is Unix seconds."""
    moment = at if at is not None else time.time() - next(_sequence)
    return TelemetrySample.objects.create(
        room=room,
        platform=platform,
        tokens_count=tokens,
        tips_count=tips,
        viewers_count=viewers,
        timestamp=datetime.fromtimestamp(moment, tz=UTC),
        device=device,
    )
