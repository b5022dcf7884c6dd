"""God Mode page and the short-lived token its script uses for the socket."""

import time
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.formats import get_format
from django.utils.translation import get_language, gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from rest_framework_simplejwt.tokens import AccessToken

from dashboard.page import STALE_AFTER_SECONDS, age_formats, build_page, state_labels
from dashboard.snapshot import snapshot_state, visibility_for

SOCKET_PATH = "/ws/dashboard/"


@login_required
@never_cache
def god_mode(request: HttpRequest) -> HttpResponse:
    visibility = visibility_for(request.user)
    _, readings = snapshot_state(visibility)
    now = time.time()
    page = build_page(visibility, readings, now=now)
    context = {
        "page": page,
        "godmode_config": _script_config(request, now=now),
    }
    return render(request, "dashboard/god_mode.html", context)


def _script_config(request: HttpRequest, *, now: float) -> dict:
    """Return what ``godmode.js`` reads from the page's ``json_script`` block.

    ``serverTime`` lets the script measure ages on the server's clock even when
    the viewer's computer clock is off. Labels arrive already translated.
    """
    next_query = urlencode({"next": request.get_full_path()})
    return {
        "socketPath": SOCKET_PATH,
        "tokenUrl": reverse("dashboard:token"),
        "loginUrl": f"{resolve_url(settings.LOGIN_URL)}?{next_query}",
        "staleAfterSeconds": STALE_AFTER_SECONDS,
        "serverTime": now,
        "language": get_language(),
        "thousandSeparator": get_format("THOUSAND_SEPARATOR"),
        "labels": {
            "connection": {
                "connecting": gettext("Connecting…"),
                "connected": gettext("Connected"),
                "reconnecting": gettext("Reconnecting…"),
                "offline": gettext("Offline"),
            },
            "states": state_labels(),
            "age": age_formats(),
            "retryIn": gettext("Connection lost. Retrying in %(seconds)s s."),
            "forbidden": gettext(
                "Your account may not watch live data any more. "
                "Ask an admin to add you to a squad, then reload the page."
            ),
        },
    }


@require_POST
@never_cache
def dashboard_token(request: HttpRequest) -> JsonResponse:
    """Issue a short-lived access token to the logged-in user of the page.

    The page cannot turn its session cookie into a JWT itself, and a full
    login token would outlive the page. This one lasts
    ``DASHBOARD_TOKEN_SECONDS``, and the page requests a new one before it
    expires.
    The POST needs the CSRF token, so another site cannot obtain one for a
    visitor who is logged in here.
    """
    if not request.user.is_authenticated:
        return JsonResponse(
            {"detail": gettext("Your session has ended. Log in again.")}, status=401
        )

    lifetime = settings.DASHBOARD_TOKEN_SECONDS
    token = AccessToken.for_user(request.user)
    token.set_exp(lifetime=timedelta(seconds=lifetime))
    return JsonResponse(
        {"access": str(token), "expires_at": token["exp"], "expires_in": lifetime}
    )
