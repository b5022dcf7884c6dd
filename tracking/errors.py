"""Error bodies in the shape the original telemetry clients understand."""

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.views import exception_handler


def telemetry_exception_handler(exc, context):
    """Wrap DRF's error response as ``{"status": "error", "message", "errors"}``.

    ``errors`` keeps DRF's per-field detail, so each invalid field is named
    with its fix. For a posted array it is a list aligned with the array, with
    ``{}`` for each valid reading.
    """
    response = exception_handler(exc, context)
    if response is None:
        return None

    detail = response.data
    if isinstance(exc, exceptions.ParseError):
        message = _(
            "The body is not valid JSON. Send one reading as a JSON object or a "
            "batch as a JSON array of objects."
        )
        errors = {}
    elif isinstance(exc, exceptions.ValidationError):
        if getattr(context.get("view"), "action", None) == "create":
            message = _("Invalid telemetry; see errors for each field to fix.")
        else:
            message = _("Invalid query parameters; see errors for each one to fix.")
        errors = detail
    elif isinstance(detail, dict) and set(detail) == {"detail"}:
        message = str(detail["detail"])
        errors = {}
    else:
        message = _("The request was rejected.")
        errors = detail

    response.data = {"status": "error", "message": message, "errors": errors}
    return response
