"""Which column of a file gives which field: the alias table and ``--map``.

Column names are compared case-, space-, ``_``- and ``-``-insensitively
(``Email Address``, ``email_address`` and ``EMAIL-ADDRESS`` are one name).
A column is, in order: what ``--map COLUMN=FIELD`` says (``--map COLUMN=``
ignores it); a field's own name; a known alias (HubSpot's ``Record ID``,
Shopify's ``Accepts Email Marketing``, Mailchimp's ``Email Address``...);
``attributes.NAME``, ``consent.CHANNEL`` or ``data.NAME``. Any other column
is ignored, and named in the summary: exports carry dozens of columns
(addresses, order totals) that a program should not keep unless asked to,
with ``--map "Total Spent=attributes.total_spent"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import attrs

from advokit.core.errors import InvalidValue
from advokit.importing.errors import FileNotImportable

__all__ = ["ACTIONS", "ADVOCATES", "Columns", "Fields", "normalise", "parse_map"]

_SEPARATORS = re.compile(r"[\s_\-]+")
_CHANNEL = re.compile(r"[a-z][a-z0-9_-]{0,62}")


def normalise(column: str) -> str:
    """The form column names are compared in: ``"Email_Address "`` -> ``"email address"``."""
    return _SEPARATORS.sub(" ", column.strip().lower()).strip()


@attrs.frozen
class Fields:
    """The fields one kind of import fills, and the column names that give them.

    ``prefixes`` are the open-ended fields (``attributes.NAME``); ``aliases``
    maps each field to the other column names that give it, as written in the
    exports they come from (compared after :func:`normalise`).
    """

    name: str
    fields: tuple[str, ...]
    prefixes: tuple[str, ...]
    aliases: Mapping[str, tuple[str, ...]]
    _by_name: dict[str, str] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        by_name = {normalise(field): field for field in self.fields}
        for field, names in self.aliases.items():
            for name in names:
                assert normalise(name) not in by_name, name  # one field per name
                by_name[normalise(name)] = field
        object.__setattr__(self, "_by_name", by_name)

    def field_of(self, column: str) -> str | None:
        """The field ``column`` gives by its name, or None (ignored)."""
        known = self._by_name.get(normalise(column))
        if known is not None:
            return known
        prefix, dot, rest = column.strip().partition(".")
        prefix, rest = normalise(prefix), rest.strip()
        if not dot or not rest or prefix + "." not in self.prefixes:
            return None
        if prefix == "consent":  # channels are lower-case names: "Consent.Email" is email's
            rest = rest.lower()
            if not _CHANNEL.fullmatch(rest):
                raise FileNotImportable(
                    f"column {column!r} names no channel: expected consent.CHANNEL with a "
                    "channel name such as consent.email, or --map it to another field"
                )
        return f"{prefix}.{rest}"

    def checked(self, field: str, given: str) -> str:
        """``field`` if it is one of these fields; InvalidValue naming them otherwise."""
        if field in self.fields:
            return field
        prefix, dot, rest = field.partition(".")
        if dot and prefix + "." in self.prefixes and rest:
            if prefix == "consent" and not _CHANNEL.fullmatch(rest):
                raise InvalidValue(
                    "--map", given, "consent.CHANNEL with a channel name such as consent.email"
                )
            return field
        raise InvalidValue("--map", given, f"COLUMN=FIELD with FIELD one of {self.accepted()}")

    def accepted(self) -> str:
        """The fields in words, for error messages."""
        open_ended = ", ".join(f"{prefix}NAME" for prefix in self.prefixes)
        return f"{', '.join(self.fields)}, {open_ended}, or nothing to ignore the column"


ADVOCATES = Fields(
    name="advocates",
    fields=(
        "external_id",
        "email",
        "name",
        "first_name",
        "last_name",
        "phone",
        "kind",
        "locale",
        "timezone",
        "slack_id",
        "attributes",
        "consent",
    ),
    prefixes=("attributes.", "consent."),
    aliases={
        "external_id": (
            "id",
            "customer id",  # Shopify
            "record id",  # HubSpot
            "contact id",
            "user id",
            "member id",
            "advocate",
            "advocate id",
        ),
        "email": ("e-mail", "email address", "e-mail address", "customer email"),
        "name": ("full name", "display name"),
        "first_name": ("firstname", "given name"),
        "last_name": ("lastname", "surname", "family name"),
        "phone": ("phone number", "telephone", "mobile", "mobile number"),
        "kind": ("advocate kind",),
        "locale": ("language",),
        "timezone": ("time zone",),
        "slack_id": ("slack member id", "slack user id"),
        "consent.email": (
            "accepts email marketing",  # Shopify
            "email consent",
            "email marketing consent",
            "email opt-in",
        ),
        "consent.sms": (
            "accepts sms marketing",  # Shopify
            "sms consent",
            "sms marketing consent",
            "sms opt-in",
        ),
        "attributes.tags": ("tags",),  # Shopify, Mailchimp: kept verbatim
    },
)

ACTIONS = Fields(
    name="actions",
    fields=("kind", "advocate", "email", "key", "occurred_at", "data"),
    prefixes=("data.",),
    aliases={
        "kind": ("action", "action kind", "event", "event type", "type"),
        "advocate": (
            "advocate id",
            "external id",
            "customer id",
            "record id",
            "contact id",
            "user id",
            "member id",
        ),
        "email": ("e-mail", "email address", "e-mail address", "customer email"),
        "key": ("idempotency key", "action key", "event id"),
        "occurred_at": ("occurred", "timestamp", "time", "date", "created at", "happened at"),
    },
)


def parse_map(items: Iterable[str], fields: Fields) -> dict[str, str | None]:
    """``--map COLUMN=FIELD`` options as ``{normalised column: field or None}``.

    An empty FIELD ignores the column. Raises InvalidValue naming the accepted fields.
    """
    mapping: dict[str, str | None] = {}
    for item in items:
        column, sep, field = item.rpartition("=")
        if not sep or not column.strip():
            raise InvalidValue("--map", item, f"COLUMN=FIELD with FIELD one of {fields.accepted()}")
        field = field.strip()
        mapping[normalise(column)] = fields.checked(field, item) if field else None
    return mapping


@attrs.frozen
class Columns:
    """How a header's columns give fields: ``(column, field)`` pairs, and the ignored."""

    pairs: tuple[tuple[str, str], ...]
    ignored: tuple[str, ...]

    @classmethod
    def resolve(
        cls,
        columns: Sequence[str],
        fields: Fields,
        mapping: Mapping[str, str | None],
        *,
        file: str,
        check_map: bool = True,
    ) -> Columns:
        """Resolve a header; FileNotImportable if two columns give one field.

        ``check_map``: a ``--map`` column missing from the header is an error
        (a typo would otherwise import nothing into that field).
        """
        pairs: list[tuple[str, str]] = []
        ignored: list[str] = []
        giver: dict[str, str] = {}
        for column in columns:
            key = normalise(column)
            field = mapping[key] if key in mapping else fields.field_of(column)
            if field is None:
                ignored.append(column)
                continue
            if field in giver:
                raise FileNotImportable(
                    f"columns {giver[field]!r} and {column!r} of {file} both give the field "
                    f"{field}: ignore one with --map {column + '='!r}"
                )
            giver[field] = column
            pairs.append((column, field))
        if check_map:
            present = {normalise(column) for column in columns}
            for key in mapping:
                if key not in present:
                    raise FileNotImportable(
                        f"--map names the column {key!r}, which {file} does not have; its "
                        f"columns are {', '.join(repr(c) for c in columns)}"
                    )
        return cls(tuple(pairs), tuple(ignored))

    def fields(self) -> set[str]:
        return {field for _, field in self.pairs}

    def values(self, row: Mapping[str, object]) -> dict[str, object]:
        """``{field: value}`` of a row (``{column: value}``), for the columns it has."""
        return {field: row[column] for column, field in self.pairs if column in row}
