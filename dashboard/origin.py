"""Origin check for WebSocket connections."""

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    """Reject browser sockets opened by pages of other sites.

    Browsers always send ``Origin``, so a cross-site page is caught by the
    allowed-hosts check. Native clients (the mobile app, scripts) send no
    ``Origin`` and are not exposed to cross-site requests; they pass here and
    are still authenticated by their JWT.
    """

    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        # NOTE: like ALLOWED_HOSTS, the check matches the host name and not
        # the port, so a page served on another port of an allowed host passes.
        # It still needs a user's JWT, and this server sends no CORS headers,
        # so a page of another origin cannot read one from it.
        return self.validate_origin(parsed_origin)


def browser_origin_validator(application):
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed)
