"""HTTP middleware of the project."""

import os


class ChunkedBodyMiddleware:
    """Give a chunked request body the ``Content-Length`` that DRF looks for.

    A client may send its body with ``Transfer-Encoding: chunked`` and no
    ``Content-Length``. The ASGI server (daphne, through Twisted) decodes the
    chunks, and Django's ASGI handler spools the whole body into a seekable
    temporary file before the view runs, so its size is known. DRF, though,
    treats a request without ``Content-Length`` as having no body at all, and
    the view would answer that every field is missing. Setting the header from
    the spooled size lets DRF read the body and lets Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` check see its real size.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        is_chunked = "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
        if is_chunked and not meta.get("CONTENT_LENGTH"):
            size = _spooled_size(request)
            if size is not None:
                meta["CONTENT_LENGTH"] = str(size)
        return self.get_response(request)


def _spooled_size(request) -> int | None:
    # NOTE: under WSGI the body is a stream of unknown length; this project
    # serves ASGI only, where Django always spools it to a seekable file.
    stream = getattr(request, "_stream", None)
    if stream is None or not getattr(stream, "seekable", lambda: False)():
        return None
    size = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    return size
