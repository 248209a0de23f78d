"""What text Accord can store, on every backend alike: the rule the API's edge and the plan import both apply."""

from __future__ import annotations

import re

# C0 controls but tab, newline and carriage return (PostgreSQL text cannot hold NUL; the others are never text a
# person typed), and lone surrogates (not Unicode: no encoder will write them). Emoji, right-to-left marks,
# zero-width characters, Welsh and markup are ordinary text and pass untouched.
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
SURROGATES = re.compile(r"[\ud800-\udfff]")
CONTROL_MESSAGE = "must not contain NUL or other control characters (tab, newline and carriage return are allowed)"
SURROGATE_MESSAGE = "must be valid Unicode: it contains a lone surrogate"


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    if SURROGATES.search(text):
        return SURROGATE_MESSAGE
    if CONTROLS.search(text):
        return CONTROL_MESSAGE
    return None
