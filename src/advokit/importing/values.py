"""The values of a row, read and normalised: text, email, phone, consent, times.

Each function takes the value as the file gave it (a string from CSV; a JSON
value from JSON Lines) and returns it normalised, None for an empty cell (the
file says nothing), or raises :class:`~advokit.core.errors.InvalidValue`
naming the field, the value and what is accepted: the row is then rejected
with that reason.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, tzinfo
from types import ModuleType
from typing import Any

from advokit.core.errors import InvalidValue

__all__ = [
    "CONSENT_GRANTED",
    "CONSENT_WITHDRAWN",
    "consent",
    "email",
    "instant",
    "json_object",
    "phone",
    "region",
    "text",
    "typed",
    "words",
]

#: The only values a consent column may hold (after trimming and lower-casing;
#: ``-`` and ``_`` count as spaces). Anything else rejects the row.
CONSENT_GRANTED = frozenset({"yes", "y", "true", "1", "subscribed", "opted in", "opt in"})
CONSENT_WITHDRAWN = frozenset({"no", "n", "false", "0", "unsubscribed", "opted out", "opt out"})
_CONSENT_ACCEPTED = (
    "yes/no, y/n, true/false, 1/0, subscribed/unsubscribed, opted in/opted out, "
    "or an empty cell for no consent recorded"
)
_SEPARATORS = re.compile(r"[\s_\-]+")
_INTEGER = re.compile(r"[+-]?\d+")
_OBJECT = 'a JSON object such as {"total_cents": 4200}'


def text(field: str, value: Any) -> str | None:
    """A cell as trimmed text; None when empty. JSON numbers become their text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InvalidValue(field, value, "text")


def words(field: str, value: Any) -> str | None:
    """Text with every run of white space made one space (a name typed over two lines)."""
    found = text(field, value)
    return " ".join(found.split()) if found is not None else None


def email(value: str) -> str:
    """``value`` validated and normalised by email-validator (no DNS lookup).

    The domain is lower-cased (and IDNA-normalised), the local part kept as
    written: it is case-sensitive in principle, and matched case-insensitively.
    """
    try:
        return str(_email_validator().validate_email(value, check_deliverability=False).normalized)
    except _email_validator().EmailNotValidError as error:
        raise InvalidValue("email", value, f"an email address ({error})") from None


def phone(value: str, region: str | None) -> str:
    """``value`` as an E.164 number; a national number needs ``region`` (``GB``)."""
    phonenumbers = _phonenumbers()
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            hint = "--region for national numbers" if region is None else f"region {region}"
            raise InvalidValue(
                "phone", value, f"a number with its country code, such as +44 20 7183 8750 ({hint})"
            ) from None
        raise InvalidValue("phone", value, f"a phone number ({error})") from None
    if not phonenumbers.is_valid_number(number):
        where = f" in region {region}" if region else ""
        raise InvalidValue("phone", value, f"a phone number that exists{where}")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def region(value: str) -> str:
    """A region code for national phone numbers (``--region``): ``GB``, ``US``."""
    code = value.strip().upper() if isinstance(value, str) else value
    if code not in _phonenumbers().SUPPORTED_REGIONS:
        raise InvalidValue("--region", value, "a two-letter region code such as GB or US")
    return str(code)


def consent(field: str, value: Any) -> bool | None:
    """A consent cell: True (granted), False (withdrawn) or None (empty: nothing recorded).

    Only the values of :data:`CONSENT_GRANTED` and :data:`CONSENT_WITHDRAWN` (and
    JSON booleans) are accepted: consent is never guessed from anything else.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        word = _SEPARATORS.sub(" ", value.strip().lower())
        if not word:
            return None
        if word in CONSENT_GRANTED:
            return True
        if word in CONSENT_WITHDRAWN:
            return False
    raise InvalidValue(field, value, _CONSENT_ACCEPTED)


def instant(field: str, value: Any, timezone: tzinfo | None) -> datetime | None:
    """An ISO 8601 time; a naive one is in ``timezone`` (``--timezone``), or rejected."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    when = None
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            when = None
    if when is None:
        raise InvalidValue(field, value, "an ISO 8601 time such as 2026-06-01T12:00:00+00:00")
    if when.utcoffset() is None:
        if timezone is None:
            raise InvalidValue(
                field, value, "a time with a UTC offset such as +00:00 (or pass --timezone)"
            )
        when = when.replace(tzinfo=timezone)
    return when


def json_object(field: str, value: Any) -> dict[str, Any] | None:
    """A JSON object: given as one (JSON Lines) or as its text (a CSV cell)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidValue(field, value, _OBJECT) from None
    if not isinstance(value, Mapping):
        raise InvalidValue(field, value, _OBJECT)
    return dict(value)


def typed(value: Any, expected: type | tuple[type, ...]) -> Any:
    """A value as the type an action kind declares for it.

    Text that reads exactly as the declared type is converted (``"4200"`` ->
    4200 for an int, ``"true"`` for a bool), and a whole number where text is
    declared becomes its text (an order id exported as a JSON number). Anything
    else is returned as it was, for the kind's own check to judge.
    """
    types = expected if isinstance(expected, tuple) else (expected,)
    if type(value) is int and str in types and int not in types:
        return str(value)
    if not isinstance(value, str):
        return value
    for kind in types:
        if kind is str:
            return value
        if kind is int and _INTEGER.fullmatch(value.strip()):
            return int(value)
        if kind is float:
            try:
                number = float(value)
            except ValueError:
                continue
            if math.isfinite(number):
                return number
        if kind is bool:
            word = value.strip().lower()
            if word in ("true", "false"):
                return word == "true"
    return value


@functools.cache  # imported once: these run for every row
def _email_validator() -> ModuleType:
    from advokit.core.extras import require

    return require("email_validator", "import")


@functools.cache
def _phonenumbers() -> ModuleType:
    from advokit.core.extras import require

    return require("phonenumbers", "import")
