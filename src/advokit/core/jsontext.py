"""JSON text written directly, byte-identical to what the ``json`` module writes.

Every recorded action stores its data (canonical, for the fingerprint) and its
effects as JSON. Their values are nearly always flat strings and integers,
which are cheaper to write here than through ``json.dumps`` and the
dictionaries it needs; anything else falls back to the ``json`` module.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["array", "canonical", "scalar", "scalars", "string"]

#: What ``json.dumps`` does to a str (C code, ``ensure_ascii``).
string = json.encoder.encode_basestring_ascii

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def scalar(value: Any) -> str | None:
    """The JSON text of a str, int, bool or None; ``None`` for any other value."""
    kind = type(value)
    if kind is str:
        return string(value)  # type: ignore[no-any-return]
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    return None


def canonical(data: Mapping[str, Any]) -> str:
    """``json.dumps(dict(data), sort_keys=True, separators=(",", ":"))``."""
    parts = []
    for key in sorted(data):
        text = scalar(data[key])
        if text is None:  # nested or float values: the json module's rules
            return _CANONICAL.encode(dict(data))
        parts.append(f"{string(key)}:{text}")
    return "{" + ",".join(parts) + "}"


def array(items: Sequence[Any]) -> str:
    """``json.dumps(list(items))``."""
    text = scalars(items)
    return json.dumps(list(items)) if text is None else text


def scalars(items: Sequence[Any]) -> str | None:
    """The JSON array of str, int, bool or None items; ``None`` if another value is in it."""
    texts = []
    for item in items:
        text = scalar(item)
        if text is None:
            return None
        texts.append(text)
    return "[" + ", ".join(texts) + "]"
