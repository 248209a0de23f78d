"""Every string a client can send passes the one rule for storable text (api/text.py): no input schema has a plain
string field that a new endpoint could copy."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

from marshmallow import fields

import api
from api.schemas import Strict
from api.text import Text, depth, storable, unstorable


def every_subclass(cls: type[Any]) -> Iterator[type[Any]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from every_subclass(sub)


def strings(field: fields.Field) -> Iterator[fields.Field]:
    if isinstance(field, fields.List):
        yield from strings(field.inner)
    elif isinstance(field, fields.String):
        yield field


def test_every_string_field_of_every_input_schema_refuses_unstorable_text() -> None:
    for module in pkgutil.iter_modules(api.__path__):
        importlib.import_module(f"api.{module.name}")
    schemas = list(every_subclass(Strict))
    assert len(schemas) >= 10
    for schema in schemas:
        for name, field in schema().fields.items():
            for string in strings(field):
                if isinstance(string, fields.UUID | fields.Date | fields.DateTime):
                    continue  # Parsed into a value that cannot hold such text.
                assert isinstance(string, Text) or storable in string.validators, (schema.__name__, name)


def test_what_is_storable() -> None:
    for text in ("", "plain", "tab\tnew\nline\r", "Cymraeg ŵ ŷ", "\u200f\u200b\u200d", "😀", "\x7f\x85", "<b>&</b>"):
        assert unstorable(text) is None, text
    for text in ("\x00", "a\x01", "\x0b", "\x0c", "\x1f", "\ud800", "x\udfff"):
        assert unstorable(text), text


def test_nesting_is_measured_outside_strings() -> None:
    assert depth(b'{"a": [[1], {"b": []}]}') == 0  # Too few brackets to be deep: not scanned.
    assert depth(b"[" * 40 + b"]" * 40) == 40
    assert depth(b'{"text": "' + b"[" * 40 + b'"}') == 1
    assert depth(b'{"text": "\\"' + b"[" * 40 + b'"}') == 1
    assert depth(b'[[[[[[[[[[[[[[[[[{"x": "]]]]]]]]]]]]]]]]]]"}]]]]]]]]]]]]]]]]]') == 18
    assert depth(b"[" * 20 + b'"' + b'\\"[' * 10) == 20  # An unterminated string runs to the end.
