"""ASGI entry point: HTTP through Django, WebSocket through Channels.

A browser's WebSocket must come from a page on an allowed host (the same
list as ``ALLOWED_HOSTS``), so a page on another site cannot open the
dashboard socket; native clients send no Origin and rely on their JWT alone.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sweetmodels.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from dashboard.middleware import JWTAuthMiddleware  # noqa: E402
from dashboard.origin import browser_origin_validator  # noqa: E402
from dashboard.routing import websocket_urlpatterns  # noqa: E402

http_app = django_asgi_app
if settings.SERVE_STATIC:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    http_app = ASGIStaticFilesHandler(django_asgi_app)

application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": browser_origin_validator(
            JWTAuthMiddleware(URLRouter(websocket_urlpatterns))
        ),
    }
)
