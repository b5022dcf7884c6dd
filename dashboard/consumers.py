"""The God Mode WebSocket: a snapshot on connect, then live telemetry events."""

import asyncio
import contextlib
import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from rest_framework_simplejwt.exceptions import TokenError

from dashboard.middleware import SUBPROTOCOL, user_for_token
from dashboard.snapshot import Visibility, snapshot_state, visibility_for
from tracking.events import snapshot_event, squad_group
from tracking.failures import log_failure

logger = logging.getLogger(__name__)

CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403

# Clients only send {"action": "refresh_token", "token": ...}, well under 2 KB;
# a larger message is not one of ours, and parsing it would cost for nothing.
# Counted in characters, or in bytes for a binary message.
MAX_MESSAGE_CHARACTERS = 64 * 1024


class DashboardConsumer(AsyncWebsocketConsumer):
    """Stream the telemetry of the squads a user may watch.

    Clients may send ``{"action": "refresh_token", "token": "<access>"}`` with a
    newer token of the same user to keep the socket open past the first
    token's expiry. Without one, the socket closes with 4401 when it expires.
    Any other message gets an ``ERROR`` event, and one longer than
    ``MAX_MESSAGE_CHARACTERS`` closes the socket with 1009. When the channel
    layer fails to add the socket to its groups, it closes with 1011, so the
    client reconnects later.

    NOTE: squads are checked on connect and on each token refresh, so a user
    removed from a squad keeps its events until then (at most one token
    lifetime); a refresh that finds other squads re-joins and sends a new
    SNAPSHOT.
    """

    groups_joined: list[str]
    expiry_task: asyncio.Task | None = None

    async def __call__(self, scope, receive, send) -> None:
        # When the channel layer fails (Redis stopped or restarted), its
        # receive loop ends with the error, even on a clean disconnect. That
        # is one line in the log, not a traceback per socket, and a client
        # still connected gets 1011 and reconnects.
        try:
            await super().__call__(scope, receive, send)
        except Exception:
            log_failure(
                logger,
                "websocket consumer stopped user=%s",
                getattr(scope.get("user"), "pk", None),
            )
            with contextlib.suppress(Exception):
                await self.close(code=CLOSE_SERVER_ERROR)

    async def connect(self) -> None:
        self.groups_joined = []
        user = self.scope["user"]
        subprotocols = self.scope.get("subprotocols") or []
        # A browser that offered subprotocols drops a connection whose answer
        # names none, so the close code would never reach the page.
        subprotocol = SUBPROTOCOL if SUBPROTOCOL in subprotocols else None

        if not user.is_authenticated:
            await self.accept(subprotocol)
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return

        visibility = await self._visibility(user)
        if not visibility.squad_ids:
            logger.info("websocket forbidden user=%s reason=no squads", user.pk)
            await self.accept(subprotocol)
            await self.close(code=CLOSE_FORBIDDEN)
            return

        try:
            await self._join_only(visibility.squad_ids)
        except Exception:
            log_failure(logger, "websocket group_add failed user=%s", user.pk)
            await self.accept(subprotocol)
            await self.close(code=CLOSE_SERVER_ERROR)
            return
        await self.accept(subprotocol)
        await self._send_snapshot(visibility)
        self.expires_at = self.scope["token_expires_at"]
        self.expiry_task = asyncio.create_task(self._close_when_token_expires())
        logger.info(
            "websocket connected user=%s squads=%s", user.pk, visibility.squad_ids
        )

    async def disconnect(self, code) -> None:
        if self.expiry_task is not None:
            self.expiry_task.cancel()
        for group in list(self.groups_joined):
            await self._leave(group)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        size = len(text_data if text_data is not None else bytes_data or b"")
        if size > MAX_MESSAGE_CHARACTERS:
            logger.warning(
                "websocket message too big user=%s characters=%d",
                self.scope["user"].pk,
                size,
            )
            await self.close(code=CLOSE_MESSAGE_TOO_BIG)
            return

        try:
            message = json.loads(text_data or "")
        except (ValueError, RecursionError):
            # ValueError covers malformed JSON, RecursionError JSON nested
            # deeper than Python's recursion limit.
            await self._send_error("invalid_json")
            return
        if not isinstance(message, dict) or message.get("action") != "refresh_token":
            await self._send_error("unknown_action")
            return
        await self._refresh_token(message.get("token"))

    async def telemetry_update(self, event: dict) -> None:
        """Forward a telemetry event, already encoded once by the sender."""
        await self.send(text_data=event["text"])

    async def _refresh_token(self, raw_token) -> None:
        user = self.scope["user"]
        try:
            if not isinstance(raw_token, str):
                raise TokenError("token is not a string")
            token_user, expires_at = await user_for_token(raw_token)
        except TokenError as error:
            # The class, not the message: simplejwt's messages are translated.
            logger.info(
                "websocket token refresh rejected user=%s reason=%s",
                user.pk,
                type(error).__name__,
            )
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if token_user.pk != user.pk:
            logger.warning("websocket token refresh for another user user=%s", user.pk)
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.expires_at = max(self.expires_at, expires_at)
        await self.send(
            text_data=json.dumps(
                {"event_type": "TOKEN_REFRESHED", "expires_at": self.expires_at}
            )
        )

        visibility = await self._visibility(token_user)
        if not visibility.squad_ids:
            logger.info("websocket forbidden user=%s reason=no squads", user.pk)
            await self.close(code=CLOSE_FORBIDDEN)
            return
        try:
            changed = await self._join_only(visibility.squad_ids)
        except Exception:
            log_failure(logger, "websocket group_add failed user=%s", user.pk)
            await self.close(code=CLOSE_SERVER_ERROR)
            return
        if changed:
            logger.info(
                "websocket squads changed user=%s squads=%s",
                user.pk,
                visibility.squad_ids,
            )
            await self._send_snapshot(visibility)

    async def _join_only(self, squad_ids: list[int]) -> bool:
        """Be in exactly the groups of ``squad_ids``; return whether that changed."""
        wanted = [squad_group(squad_id) for squad_id in squad_ids]
        changed = set(wanted) != set(self.groups_joined)

        for group in set(self.groups_joined) - set(wanted):
            await self._leave(group)
        # Adding again a group the socket is in renews the membership, which
        # channels_redis otherwise drops after a day (group_expiry). The list
        # grows as groups are added, so a failure midway leaves it true for
        # disconnect. Raises what the channel layer raises.
        for group in wanted:
            await self.channel_layer.group_add(group, self.channel_name)
            if group not in self.groups_joined:
                self.groups_joined.append(group)
        return changed

    async def _leave(self, group: str) -> None:
        """Leave ``group``; a failure is logged, because disconnect must finish."""
        self.groups_joined.remove(group)
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except Exception:
            # channels_redis drops the stale member after its group_expiry.
            log_failure(
                logger,
                "websocket group_discard failed user=%s group=%s",
                self.scope["user"].pk,
                group,
            )

    async def _close_when_token_expires(self) -> None:
        # The loop re-reads expires_at because a refresh can move it later.
        while True:
            remaining = self.expires_at - time.time()
            if remaining <= 0:
                break
            await asyncio.sleep(min(remaining, 30))
        logger.info("websocket token expired user=%s", self.scope["user"].pk)
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _send_snapshot(self, visibility: Visibility) -> None:
        rooms, readings = await database_sync_to_async(snapshot_state)(visibility)
        event = snapshot_event(readings, rooms, sent_at=time.time())
        await self.send(text_data=json.dumps(event))

    async def _send_error(self, code: str) -> None:
        await self.send(text_data=json.dumps({"event_type": "ERROR", "code": code}))

    @database_sync_to_async
    def _visibility(self, user) -> Visibility:
        return visibility_for(user)
