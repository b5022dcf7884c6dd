"""God Mode page and the short-lived token its script uses for the socket."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from rest_framework_simplejwt.tokens import AccessToken

from dashboard.page import build_page_squads
from dashboard.snapshot import snapshot_state, visibility_for

# A room whose newest reading is older than this is drawn as stale.
STALE_AFTER_SECONDS = 30


@login_required
@never_cache
def god_mode(request: HttpRequest) -> HttpResponse:
    visibility = visibility_for(request.user)
    rooms, readings = snapshot_state(visibility)
    config = {
        "socketPath": "/ws/dashboard/",
        "tokenUrl": reverse("dashboard:token"),
        "staleAfterSeconds": STALE_AFTER_SECONDS,
    }
    context = {
        "squads": build_page_squads(visibility, readings),
        "has_rooms": bool(rooms),
        "godmode_config": config,
    }
    return render(request, "dashboard/god_mode.html", context)


@require_POST
@never_cache
def dashboard_token(request: HttpRequest) -> JsonResponse:
    """Issue a short-lived access token to the logged-in user of the page.

    The page cannot read the session cookie's user into a JWT itself, and a
    full login token would outlive the page; this one lasts
    ``DASHBOARD_TOKEN_SECONDS`` and the page asks again before it expires.
    """
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "login required"}, status=401)

    token = AccessToken.for_user(request.user)
    token.set_exp(lifetime=timedelta(seconds=settings.DASHBOARD_TOKEN_SECONDS))
    return JsonResponse({"access": str(token), "expires_at": token["exp"]})
