"""Error responses of the API: JSON with a message that says what to do.

``api_exception_handler`` is DRF's ``EXCEPTION_HANDLER`` for every API view.
It turns the failures a client can cause or wait out into JSON responses
instead of Django's HTML error pages. The telemetry viewset wraps its result
in the shape the original telemetry clients understand.
"""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.views import TokenRefreshView

from tracking.failures import log_failure
from tracking.serializers import MAX_BATCH_SIZE

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait after a 503. A locked SQLite database or a
# restarting PostgreSQL is usually back within this.
RETRY_AFTER_SECONDS = 5


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "database_unavailable"
    wait = RETRY_AFTER_SECONDS

    def __init__(self):
        super().__init__(_("The database is busy. Retry in a few seconds."))


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def body_limit() -> str:
    """Return DATA_UPLOAD_MAX_MEMORY_SIZE for people, for example "2.5 MB"."""
    return filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def api_exception_handler(exc, context):
    """Return DRF's response to its exceptions, and a JSON response to these.

    - a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413;
    - a database that is locked or unreachable (``OperationalError``,
      ``InterfaceError``): 503 with ``Retry-After``, logged as one line;
    - a body that is not JSON: 415 that names the header to send;
    - an invalid JWT: 401 that says how to get a valid one.

    Other errors (a bug, a failed constraint) still raise, so they stay 500.
    """
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(
            _("The body is larger than %(limit)s.") % {"limit": body_limit()}
        )
    elif isinstance(exc, OperationalError | InterfaceError):
        request = context.get("request")
        log_failure(
            logger,
            "database unavailable, answered 503 method=%s path=%s",
            getattr(request, "method", None),
            getattr(request, "path", None),
        )
        exc = DatabaseUnavailable()
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        exc = exceptions.UnsupportedMediaType(
            media_type="",
            detail=_(
                "Send the body as JSON with the header Content-Type: application/json."
            ),
        )

    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, InvalidToken):
        response.data = {
            "detail": _token_advice(context.get("view")),
            "code": "token_not_valid",
        }
    return response


def _token_advice(view) -> str:
    if isinstance(view, TokenRefreshView):
        return _("The refresh token is invalid or expired. Log in again.")
    return _(
        "The access token is invalid or expired. Log in again or refresh the token."
    )


def telemetry_exception_handler(exc, context):
    """Wrap the API's error response as ``{"status": "error", "message", "errors"}``.

    ``errors`` keeps DRF's per-field detail, so each invalid field is named
    with its fix. For a posted array it is a list aligned with the array, with
    ``{}`` for each valid reading.
    """
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(
            _(
                "The body is larger than %(limit)s; send at most %(count)d readings "
                "per request."
            )
            % {"limit": body_limit(), "count": MAX_BATCH_SIZE}
        )
    response = api_exception_handler(exc, context)
    if response is None:
        return None

    detail = response.data
    if isinstance(exc, exceptions.ParseError):
        message = _(
            "The body is not valid JSON. Send one reading as a JSON object or a "
            "batch as a JSON array of objects."
        )
        errors = {"non_field_errors": [detail["detail"]]}
    elif isinstance(exc, exceptions.ValidationError):
        if getattr(context.get("view"), "action", None) == "create":
            message = _("Invalid telemetry; see errors for each field to fix.")
        else:
            message = _("Invalid query parameters; see errors for each one to fix.")
        errors = detail
    elif isinstance(detail, dict) and "detail" in detail:
        message = str(detail["detail"])
        errors = {}
    elif _single_message(detail):
        message = _single_message(detail)
        errors = detail
    else:
        message = _("The request was rejected.")
        errors = detail

    response.data = {"status": "error", "message": message, "errors": errors}
    return response


def _single_message(detail) -> str | None:
    """Return the message of ``{"field": ["message"]}``, the only one it holds."""
    if not isinstance(detail, dict) or len(detail) != 1:
        return None
    (messages,) = detail.values()
    if isinstance(messages, list) and len(messages) == 1:
        return str(messages[0])
    return None


def page_not_found(request, exception):
    """Django's 404 page, or a JSON 404 for URLs under /api/."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"detail": _("No API endpoint at this URL. See /api/docs/ for the list.")},
            status=status.HTTP_404_NOT_FOUND,
        )
    return defaults.page_not_found(request, exception)
