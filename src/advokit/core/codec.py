"""Storing effects as JSON, so that a retried action replays its first outcome.

An effect is stored as ``{"type": "module:QualName", "fields": {...}}``; only
attrs classes deriving from :class:`~advokit.core.model.Effect` (and the attrs
values they hold, such as :class:`~advokit.core.model.Reward`) are decoded.
"""

from __future__ import annotations

import enum
import functools
import importlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from advokit.core import jsontext
from advokit.core.model import Effect, Reward

__all__ = ["decode_effect", "decode_recorded", "effects_json", "encode_effect"]

_DECODABLE_VALUES = (Reward,)


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in attrs.fields(cls))


@functools.cache
def _type_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


#: Types stored as they are (exact types: the common case, checked first).
_PLAIN = frozenset({str, int, type(None), bool, float})


def encode_effect(effect: Effect) -> dict[str, Any]:
    cls = type(effect)
    fields = {}
    for name in _field_names(cls):
        value = getattr(effect, name)
        fields[name] = value if type(value) in _PLAIN else _encode(value)
    return {"type": _type_name(cls), "fields": fields}


@functools.cache
def _json_parts(cls: type) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The constant text of ``cls``'s encoding: its head and each field's ``"name": ``."""
    head = f'{{"type": {jsontext.string(_type_name(cls))}, "fields": {{'
    return head, tuple((f"{jsontext.string(name)}: ", name) for name in _field_names(cls))


def effects_json(effects: Sequence[Effect]) -> str:
    """``json.dumps([encode_effect(e) for e in effects])``, without the intermediate dicts.

    Every recorded action stores its effects, so this runs once per action:
    fields holding a str, int, bool or None (nearly all of them) are written
    straight into the text; anything else goes through :func:`encode_effect`'s
    rules and ``json.dumps``.
    """
    if not effects:
        return "[]"
    parts = []
    for effect in effects:
        head, fields = _json_parts(type(effect))
        values = []
        for prefix, name in fields:
            value = getattr(effect, name)
            text = jsontext.scalar(value)
            if text is None:
                text = _value_json(value)
            values.append(prefix + text)
        parts.append(head + ", ".join(values) + "}}")
    return "[" + ", ".join(parts) + "]"


def _value_json(value: Any) -> str:
    """The JSON text of a field that is not a scalar: common shapes written directly."""
    kind = type(value)
    if isinstance(value, str):  # a str enum (a state, say): stored as its text
        return jsontext.string(value)
    if kind is tuple or kind is list:
        text = jsontext.scalars(value)  # a tuple of names or counts, say
        if text is not None:
            return text
    elif kind is datetime:
        return '{"$datetime": ' + jsontext.string(value.isoformat()) + "}"
    return json.dumps(_encode(value))


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if attrs.has(type(value)):
        return {
            "$attrs": _type_name(type(value)),
            "fields": {n: _encode(getattr(value, n)) for n in _field_names(type(value))},
        }
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_encode(v) for v in value]
    raise TypeError(f"cannot store {type(value).__name__} in an effect")


@functools.cache
def _resolve(type_name: str, base: tuple[type, ...]) -> type:
    module_name, _, qualname = type_name.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and issubclass(obj, base) and attrs.has(obj)):
        raise TypeError(f"{type_name} is not an advokit effect or value")
    return obj


def decode_recorded(stored: Sequence[Mapping[str, Any]]) -> tuple[Effect, ...]:
    """The recorded effects of a stored outcome.

    Effects of a type that is no longer recorded (a plugin's bookkeeping,
    stored before its class said ``recorded = False``) are left out unread:
    their fields may have changed shape since.
    """
    return tuple(decode_effect(e) for e in stored if _resolve(e["type"], (Effect,)).recorded)


def decode_effect(data: Mapping[str, Any]) -> Effect:
    cls = _resolve(data["type"], (Effect,))
    return cls(**{k: _decode(v) for k, v in data["fields"].items()})  # type: ignore[no-any-return]


def _decode(value: Any, *, in_mapping: bool = False) -> Any:
    # A JSON array is a tuple in a field of a frozen value, and stays a list
    # inside a mapping (a message's context), where it was one when recorded.
    if isinstance(value, dict):
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$attrs" in value:
            cls = _resolve(value["$attrs"], (Effect, *_DECODABLE_VALUES))
            return cls(**{k: _decode(v) for k, v in value["fields"].items()})
        return {k: _decode(v, in_mapping=True) for k, v in value.items()}
    if isinstance(value, list):
        items = [_decode(v, in_mapping=in_mapping) for v in value]
        return items if in_mapping else tuple(items)
    return value
