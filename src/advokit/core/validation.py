"""Validators for attrs fields, each raising :class:`~advokit.core.errors.InvalidValue`.

attrs' own validators raise ``TypeError``/``ValueError`` with messages meant for
programmers; advokit's users get one line naming the field, the value and what
is accepted, so the value objects use these instead.
"""

from __future__ import annotations

import functools
import json
import re
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from advokit.core.errors import ConfigurationError, InvalidValue, one_of

Validator = Callable[[Any, Any, Any], None]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _field_name(instance: Any, attribute: Any) -> str:
    return f"{type(instance).__name__}.{attribute.name}"


_KNOWN_LIMIT = 1024


def matches(pattern: str, accepted: str, *, optional: bool = False) -> Validator:
    """The value is a string that fully matches ``pattern``."""
    regex = re.compile(pattern)
    # kinds, accounts and reason codes repeat on every action: a set lookup is
    # cheaper than the regex (bounded, so that keys and ids cannot grow it)
    known: set[str] = set()

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if (value is None and optional) or (type(value) is str and value in known):
            return
        if not isinstance(value, str) or not regex.fullmatch(value):
            raise InvalidValue(_field_name(instance, attribute), value, accepted)
        if len(known) < _KNOWN_LIMIT:
            known.add(value)

    return check


def text(*, max_length: int = 255, optional: bool = False) -> Validator:
    """A non-empty single-line string without surrounding whitespace."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is None and optional:
            return
        if not is_text(value, max_length):
            raise InvalidValue(
                _field_name(instance, attribute),
                value,
                f"non-empty single-line text of at most {max_length} characters",
            )

    return check


def is_text(value: Any, max_length: int = 255) -> bool:
    """Whether ``value`` is what :func:`text` accepts: a non-empty single-line
    string of at most ``max_length`` characters, without surrounding whitespace."""
    return (
        isinstance(value, str)
        and bool(value)
        and value == value.strip()
        and len(value) <= max_length
        and not _CONTROL.search(value)
    )


def integer(
    *, minimum: int | None = None, maximum: int | None = None, optional: bool = False
) -> Validator:
    """An ``int`` (not a ``bool``), at least ``minimum`` and at most ``maximum``."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is None and optional:
            return
        if (
            not is_int(value)
            or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)
        ):
            bound = f" >= {minimum}" if minimum is not None else ""
            bound += f" <= {maximum}" if maximum is not None else ""
            raise InvalidValue(_field_name(instance, attribute), value, f"an integer{bound}")

    return check


def positive_duration(*, optional: bool = False) -> Validator:
    """A :class:`timedelta` longer than zero (a setting: raises ConfigurationError)."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, timedelta) or value <= timedelta(0):
            accepted = "a positive timedelta" + (" or None" if optional else "")
            raise ConfigurationError(_field_name(instance, attribute), value, accepted)

    return check


def aware_datetime(*, optional: bool = False) -> Validator:
    """A timezone-aware :class:`datetime`."""

    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise InvalidValue(_field_name(instance, attribute), value, "a timezone-aware datetime")

    return check


def timezone_name(instance: Any, attribute: Any, value: Any) -> None:
    """An IANA time zone name such as ``Europe/Paris``."""
    if not isinstance(value, str) or not is_zone(value):
        raise InvalidValue(
            _field_name(instance, attribute), value, "an IANA time zone name such as 'Europe/Paris'"
        )


@functools.cache
def is_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def seconds(field: str, value: Any) -> float:
    """``value`` as a positive number of seconds (a timeout); ConfigurationError if not."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
        raise ConfigurationError(field, value, "a positive number of seconds")
    return float(value)


def secret(field: str, value: Any) -> str:
    """``value`` if it can key an HMAC (a string of 16 characters or more); else a
    ConfigurationError that does not repeat it."""
    if not isinstance(value, str) or len(value) < 16:
        raise ConfigurationError(field, "***", "a secret of at least 16 characters")
    return value


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_rate(value: Any) -> bool:
    """Whether ``value`` is a ``(most, window)`` limit: an integer >= 1, a positive timedelta."""
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and is_int(value[0])
        and value[0] >= 1
        and isinstance(value[1], timedelta)
        and value[1] > timedelta(0)
    )


def to_utc(value: datetime | None) -> datetime | None:
    """Converter: normalise aware datetimes to UTC; leave others for the validator."""
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.astimezone(UTC)
    return value


def instant(field: str, value: Any) -> datetime:
    """An argument that must be an aware datetime, in UTC; raises InvalidValue otherwise."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidValue(field, value, "a timezone-aware datetime")
    return value.astimezone(UTC)


def frozen_json_mapping(value: Any) -> Mapping[str, Any]:
    """Converter: a read-only copy of a mapping (validated as JSON by :func:`json_mapping`)."""
    if isinstance(value, MappingProxyType):
        return value
    if isinstance(value, Mapping):
        return MappingProxyType(dict(value))
    return value  # type: ignore[no-any-return]  # rejected by the validator


def json_mapping(instance: Any, attribute: Any, value: Any) -> None:
    """A mapping with string keys whose values JSON can encode."""
    field = _field_name(instance, attribute)
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidValue(field, value, "a mapping with string keys")
    if all(type(item) in _SCALARS for item in value.values()):
        return  # flat data, the common case: nothing JSON could refuse but NaN
    try:
        json.dumps(dict(value), allow_nan=False, default=_reject)
    except (TypeError, ValueError) as error:
        raise InvalidValue(field, value, f"JSON-encodable values ({error})") from None


# bool, int and str always encode; float only when finite (checked by the caller)
_SCALARS = frozenset({str, int, bool, type(None)})


def _reject(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON-encodable")


# --------------------------------------------------------------------------- plugin settings


def by_name(field: str, items: Sequence[Any], cls: type) -> dict[str, Any]:
    """``{item.name: item}`` of a plugin's definitions, each a ``cls``, each name once.

    Raises :class:`ConfigurationError` naming ``field`` otherwise.
    """
    for item in items:
        if not isinstance(item, cls):
            raise ConfigurationError(field, item, f"{cls.__name__} values")
    named = {item.name: item for item in items}
    if len(named) != len(items):
        names = [item.name for item in items]
        raise ConfigurationError(
            field, next(n for n in names if names.count(n) > 1), "each name once"
        )
    return named


def known_kinds(
    program: Any, used: Mapping[str, Sequence[Any]], field: Callable[[Any], str]
) -> None:
    """Refuse action kinds the program does not know, at composition time.

    ``used`` maps each kind to the definitions that listen to it; ``field``
    names the setting of a definition (``Badge('x').criterion.kind``).
    """
    kinds = program.registries.action_kinds
    for kind, definitions in used.items():
        if kind not in kinds:
            raise ConfigurationError(field(definitions[0]), kind, one_of(kinds))
