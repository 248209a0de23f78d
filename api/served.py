"""gunicorn settings for serving Accord (`accord serve` applies them; elsewhere `gunicorn -c python:api.served`):
generous limits, and a worker that answers what gunicorn refuses itself, before Flask sees the request (a request
line or header over those limits, a request that is not HTTP/1.1), with an RFC 9457 problem body, not an HTML page.
"""

from __future__ import annotations

from typing import Any

from gunicorn import util
from gunicorn.http.errors import (
    ConfigurationProblem,
    ForbiddenProxyRequest,
    LimitRequestHeaders,
    LimitRequestLine,
    ParseException,
    UnsupportedTransferCoding,
)
from gunicorn.workers.gthread import ThreadWorker
from werkzeug.http import HTTP_STATUS_CODES

from api.errors import PROBLEM, problem

# gunicorn's largest request line (8190 bytes; a URL of about 8 KB), and twice its default header field.
limit_request_line = 8190
limit_request_field_size = 16380
worker_class = "api.served.ProblemWorker"
SETTINGS: dict[str, Any] = {
    "limit_request_line": limit_request_line,
    "limit_request_field_size": limit_request_field_size,
    "worker_class": worker_class,
}
DETAILS = {
    414: f"the request line (method, URL, version) may be at most {limit_request_line} bytes",
    431: f"a header may be at most {limit_request_field_size} bytes, and a request may send at most 100",
    400: "the request is not valid HTTP/1.1",
    403: "the request was refused",
    501: "the request's transfer coding is not supported",
    500: "the server could not complete the request",
}


def refusal(error: Exception) -> int:
    """The status for what gunicorn raised while reading a request."""
    if isinstance(error, LimitRequestLine):
        return 414
    if isinstance(error, LimitRequestHeaders):
        return 431
    if isinstance(error, ForbiddenProxyRequest):
        return 403
    if isinstance(error, UnsupportedTransferCoding):
        return 501
    if isinstance(error, ParseException) and not isinstance(error, ConfigurationProblem):
        return 400
    return 500


def problem_response(status: int) -> bytes:
    """The raw HTTP response: the worker writes it to the socket itself."""
    body = problem(status, HTTP_STATUS_CODES[status], DETAILS[status]).get_data()
    head = (
        f"HTTP/1.1 {status} {HTTP_STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: {PROBLEM}\r\n"
        f"Cache-Control: no-store\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class ProblemWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker, its own refusals written as problem bodies (never echoing the request)."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        status = refusal(exc)
        if status == 500:
            self.log.exception("error handling a request")
        else:
            self.log.warning("refused a request: %s (%s)", status, type(exc).__name__)
        try:
            util.write_nonblock(client, problem_response(status))
        except Exception:
            self.log.debug("could not send the refusal")
