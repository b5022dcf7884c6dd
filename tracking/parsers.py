"""The project's JSON parser: DRF's, with two hostile inputs turned into a 400.

Python's decoder recurses once per nesting level, so ``[[[[...]]]]`` deeper
than the interpreter's recursion limit raises ``RecursionError``, which DRF's
parser does not catch. And JSON may escape a lone UTF-16 surrogate
(``"\\ud800"``), which decodes to a Python string that UTF-8 cannot encode, so
the database driver or the renderer would fail on it later.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                _("The JSON in the body is nested too deeply."), code="too_deep"
            ) from None

        if has_lone_surrogate(data):
            raise ParseError(
                _(
                    "The JSON in the body contains an unpaired surrogate escape "
                    "(\\uD800 to \\uDFFF), which is not valid Unicode text."
                ),
                code="lone_surrogate",
            )
        return data


def has_lone_surrogate(data) -> bool:
    """Return whether any string or key in decoded JSON contains an unpaired surrogate."""
    # A loop, not recursion: the data may nest nearly as deep as the
    # recursion limit allowed the decoder to go.
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if not value.isascii() and not _encodes(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
