"""Error bodies in the shape the original telemetry clients understand."""

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.views import exception_handler


def telemetry_exception_handler(exc, context):
    """Wrap DRF's error response as ``{"status": "error", "message", "errors"}``.

    ``errors`` keeps DRF's per-field detail (a list aligned with the posted
    batch for arrays), so each invalid field is named with its fix.
    """
    response = exception_handler(exc, context)
    if response is None:
        return None

    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        message = _("Invalid telemetry; see errors for each field to fix.")
        errors = detail
    elif isinstance(detail, dict) and set(detail) == {"detail"}:
        message = str(detail["detail"])
        errors = {}
    else:
        message = _("The request was rejected.")
        errors = detail

    response.data = {"status": "error", "message": message, "errors": errors}
    return response
