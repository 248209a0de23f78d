"""Text at the edge: only what both stores can keep gets in (refused with 422 naming the field), and a JSON body
is measured for nesting before any parser recurses into it (400)."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from flask import Flask, Response, request
from marshmallow import ValidationError, fields, validate
from webargs.core import is_json

from api.errors import problem
from service.text import unstorable

# For the OpenAPI document, so that clients (and schemathesis) know what is refused (service/text.py's rule).
PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f]*$"
MAX_DEPTH = 16  # The deepest body Accord takes is 3 (an update's evidence); Python's parser recurses ~1,000 deep.
# A string (to its closing quote, or the end of an unterminated one: so no match is retried, and a scan is linear)
# or a bracket.
TOKEN = re.compile(rb'"(?:[^"\\]+|\\.)*"?|[\[\]{}]', re.DOTALL)


def storable(text: str) -> None:
    """A validator, for string fields of other kinds (a URL)."""
    why = unstorable(text)
    if why:
        raise ValidationError(why)


class Text(fields.String):
    """A string field for everything a client sends: refuses what `unstorable` refuses."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not any(isinstance(v, validate.Regexp | validate.OneOf) for v in self.validators):
            self.metadata = {"pattern": PATTERN, **self.metadata}  # Documented, unless a narrower rule is.

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        storable(text)  # Before the other validators, which may echo the text back.
        return text


def header_text(name: str) -> str:
    """A free-text header as sent: WSGI hands headers over decoded as latin-1, so UTF-8 bytes (what curl sends for
    "café") are decoded again as UTF-8; bytes that are not UTF-8 stay as latin-1 text. Stripped; may be empty."""
    raw = request.headers.get(name, "")
    with contextlib.suppress(UnicodeError):
        raw = raw.encode("latin-1").decode("utf-8")
    return raw.strip()


def depth(body: bytes) -> int:
    """How deeply a JSON text nests arrays and objects (brackets inside strings do not count)."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return 0  # Cannot be deeper: the common case costs two scans in C.
    deepest = level = 0
    for token in TOKEN.findall(body):
        if token in (b"[", b"{"):
            level += 1
            deepest = max(deepest, level)
        elif token in (b"]", b"}"):
            level -= 1
    return deepest


def refuse_deep_json() -> Response | None:
    """Before any hook or view parses the body (idempotency fingerprints it, webargs loads it)."""
    if request.method != "POST" or not is_json(request.mimetype) or depth(request.get_data(cache=True)) <= MAX_DEPTH:
        return None
    return problem(400, "Bad Request", f"the JSON body nests arrays and objects more than {MAX_DEPTH} deep")


def init_app(app: Flask) -> None:
    """Register before idempotency (which reads the body) and after authentication."""
    app.before_request(refuse_deep_json)
