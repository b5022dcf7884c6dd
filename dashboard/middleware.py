"""JWT authentication for WebSocket connections.

Native clients send ``Authorization: Bearer <access token>``. Browsers cannot
set headers on a WebSocket, and a token in the URL would end up in proxy logs,
so the page offers the subprotocols ``["bearer", "<access token>"]`` instead
(the ``Sec-WebSocket-Protocol`` header); the server then answers "bearer".

The middleware never rejects a connection itself: it puts the user (anonymous
on any failure) in ``scope["user"]``, the token's expiry in
``scope["token_expires_at"]`` and, on failure, the reason in
``scope["auth_error"]``, and the consumer closes with the documented code.
"""

import logging

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

logger = logging.getLogger(__name__)

SUBPROTOCOL = "bearer"


def token_from_scope(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()

    subprotocols = list(scope.get("subprotocols") or [])
    if SUBPROTOCOL in subprotocols:
        others = [item for item in subprotocols if item != SUBPROTOCOL]
        if others:
            return others[0]
    return None


def validate_access_token(raw_token: str) -> AccessToken:
    """Return the decoded token; raises ``TokenError`` if invalid or expired."""
    return AccessToken(raw_token)


@database_sync_to_async
def _active_user(user_id):
    user = (
        get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    )
    if user is None or not user.is_active:
        return None
    return user


async def user_for_token(raw_token: str):
    """Return ``(user, expires_at)``; raises ``TokenError`` when not usable."""
    token = validate_access_token(raw_token)
    user = await _active_user(token.get(api_settings.USER_ID_CLAIM))
    if user is None:
        raise TokenError("token user is missing or inactive")
    return user, float(token["exp"])


class JWTAuthMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        scope = dict(
            scope, user=AnonymousUser(), token_expires_at=None, auth_error=None
        )
        raw_token = token_from_scope(scope)

        if raw_token is None:
            scope["auth_error"] = "missing"
        else:
            try:
                scope["user"], scope["token_expires_at"] = await user_for_token(
                    raw_token
                )
            except TokenError as error:
                scope["auth_error"] = "invalid"
                # The class, not the message: simplejwt's messages are
                # translated, and logs stay in English.
                logger.info("websocket token rejected reason=%s", type(error).__name__)

        return await self.app(scope, receive, send)
