"""``import_actions``: rows -> actions, recorded through the program's pipeline.

Past actions go through ``program.record_many`` in batches, exactly like live
ones: the rules award, the screens (fraud checks) hold or reject, and the key
makes each action count once, so importing a file again replays every row
and awards nothing.

Every row is checked first, on its own (its kind is recordable, its data fits
the kind, its advocate is enrolled, its key is well formed), so that one bad
row is rejected with its line and the rest of its batch is recorded. Should a
batch still fail as a whole (a key recorded before with other content, a
plugin's error), its rows are recorded one at a time and only those that fail
are rejected.

Rows need a ``key``: the action's idempotency key, stable across imports (an
order id, an event id). A key is never made up from the position of a row: a
line number changes when the file is edited, and the edited file imported
again would award twice. ``key_prefix`` (``"shopify:"``) keeps keys of
several systems apart.

A row's data is a JSON ``data`` column and/or ``data.NAME`` columns; the
fields its kind declares are converted to the declared type when they read
as it exactly (:func:`~advokit.importing.values.typed`: ``"4200"`` for an
int), the others are kept as the file gave them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from advokit.core.errors import AdvokitError, InvalidValue, UnknownActionKind
from advokit.core.model import Action, ActionKind, Status
from advokit.importing import values as v
from advokit.importing.batches import Parsed, run
from advokit.importing.columns import ACTIONS, parse_map
from advokit.importing.lookup import by_email, email_key
from advokit.importing.report import Reject, RejectLog, Summary
from advokit.importing.source import open_source

if TYPE_CHECKING:
    from advokit.core.program import Program

__all__ = ["ActionRow", "import_actions"]

_PREFIX = re.compile(r"[\x21-\x7e]{1,100}")


@attrs.frozen
class ActionRow:
    """What one row says: an action, whose advocate may still be only an email."""

    kind: str
    advocate: str | None
    email: str | None
    key: str
    occurred_at: Any
    data: dict[str, Any]


def parse(
    fields: dict[str, Any],
    kinds: Any,
    timezone: Any,
    key_prefix: str,
    default_kind: str | None = None,
) -> ActionRow:
    """Read a row's fields and check them against the kind; InvalidValue if bad."""
    kind_name = v.text("kind", fields.get("kind")) or default_kind
    if kind_name is None:
        raise InvalidValue("kind", None, "the action's kind, such as purchase.completed")
    kind: ActionKind | None = kinds.get(kind_name)
    if kind is None or kind.derived:
        recordable = [n for n, k in kinds.items().items() if not k.derived]
        raise UnknownActionKind(kind_name, recordable)
    key = v.text("key", fields.get("key"))
    if key is None:
        raise InvalidValue("key", None, "the action's idempotency key (an order or event id)")
    advocate = v.text("advocate", fields.get("advocate"))
    raw_email = v.text("email", fields.get("email"))
    email = v.email(raw_email) if raw_email and advocate is None else None
    if advocate is None and email is None:
        raise InvalidValue("advocate", None, "the advocate's external id, or their email")
    occurred_at = v.instant("occurred_at", fields.get("occurred_at"), timezone)
    data = v.json_object("data", fields.get("data")) or {}
    for field, value in fields.items():
        prefix, _, name = field.partition(".")
        if prefix != "data" or not name:
            continue
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue  # an empty cell says nothing
        data[name] = value
    declared = {**kind.optional, **kind.required}
    for name in declared.keys() & data.keys():
        data[name] = v.typed(data[name], declared[name])
    kind.check(data)
    return ActionRow(kind_name, advocate, email, key_prefix + key, occurred_at, data)


def _missing(fields: Collection[str], *, kind_given: bool) -> str | None:
    required = ("key",) if kind_given else ("kind", "key")
    lacking = [name for name in required if name not in fields]
    if "advocate" not in fields and "email" not in fields:
        lacking.append("advocate (or email)")
    if not lacking:
        return None
    return f"gives no {' nor '.join(lacking)} (every action needs them)"


def import_actions(
    program: Program,
    path: str | Path,
    *,
    mapping: Iterable[str] = (),
    kind: str | None = None,
    timezone: str | None = None,
    key_prefix: str = "",
    format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    batch_size: int = 1000,
    dry_run: bool = False,
    rejects: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Record the actions of a CSV or JSON Lines file through ``program.record_many``.

    Args:
        program: the :class:`~advokit.Program` (migrated).
        path: the file; see :func:`~advokit.importing.source.open_source` for
            ``format``, ``encoding`` and ``delimiter``.
        mapping: ``COLUMN=FIELD`` items (``--map``); an empty FIELD ignores the column.
        kind: the kind of the rows that state none (a file of orders, without
            a ``kind`` column: ``purchase.completed``).
        timezone: the IANA zone of times written without an offset (else rejected).
        key_prefix: put before every key (``"shopify:"``).
        batch_size: actions per ``record_many`` call (one transaction).
        dry_run: check every row and look its key up; record nothing.
        rejects: where to write every rejected row (CSV), if anywhere.
        progress: called with the bytes read so far after each batch.

    Returns:
        The :class:`~advokit.importing.report.Summary`: rows read; actions
        applied, held for review, refused (recorded as rejected by the
        program's screens or guards), replayed (their key was recorded
        before); rows rejected (not recorded). A dry run counts ``new`` and
        ``replayed`` keys instead.
    """
    from zoneinfo import ZoneInfo

    from advokit.core.store import database
    from advokit.core.store import queries as q
    from advokit.core.validation import is_zone

    options = parse_map(mapping, ACTIONS)
    zone = None
    if timezone is not None:
        if not is_zone(timezone):
            raise InvalidValue(
                "--timezone", timezone, "an IANA time zone name such as Europe/London"
            )
        zone = ZoneInfo(timezone)
    if key_prefix and not _PREFIX.fullmatch(key_prefix):
        raise InvalidValue(
            "--key-prefix", key_prefix, "1 to 100 printable ASCII characters without spaces"
        )
    if not isinstance(batch_size, int) or not 1 <= batch_size <= 10_000:
        raise InvalidValue("batch_size", batch_size, "an integer from 1 to 10000")
    names = ("new", "replayed") if dry_run else ("applied", "held", "refused", "replayed")
    counts = {"read": 0, **dict.fromkeys(names, 0), "rejected": 0}
    kinds = program.registries.action_kinds
    if kind is not None:
        known = kinds.get(kind)
        if known is None or known.derived:
            raise UnknownActionKind(kind, [n for n, k in kinds.items().items() if not k.derived])
    engine = program.engine  # refuses an unmigrated database before reading anything
    source = open_source(path, format=format, encoding=encoding, delimiter=delimiter)

    def resolve(batch: list[Parsed[ActionRow]]) -> tuple[list[Parsed[Action]], list[Reject]]:
        """The batch's actions, with advocates found by email and checked enrolled."""
        refused: list[Reject] = []
        emails = {email_key(p.value.email) for p in batch if p.value.email is not None}
        with database.transaction(engine, write=False) as conn:
            matches = by_email(conn, program.name, emails, lock=False) if emails else {}
            named: dict[int, str] = {}
            for index, parsed in enumerate(batch):
                row = parsed.value
                if row.advocate is not None:
                    named[index] = row.advocate
                    continue
                assert row.email is not None
                found = sorted({a.external_id for a in matches.get(email_key(row.email), ())})
                if len(found) == 1:
                    named[index] = found[0]
                else:
                    refused.append(parsed.reject(_email_problem(row.email, found)))
            enrolled = q.advocate_ids(conn, program.name, set(named.values()))
            # a dry run tells new keys from replayed ones itself; record_many does otherwise
            keys = {p.value.key for p in batch} if dry_run else set()
            recorded = q.recorded_actions(conn, program.name, keys) if keys else {}
        actions: list[Parsed[Action]] = []
        for index, advocate in named.items():
            parsed = batch[index]
            row = parsed.value
            if advocate not in enrolled:
                refused.append(parsed.reject(_not_enrolled(advocate, program.name)))
                continue
            try:
                action = Action(
                    kind=row.kind,
                    advocate=advocate,
                    key=row.key,
                    occurred_at=row.occurred_at,
                    data=row.data,
                )
            except InvalidValue as error:
                refused.append(parsed.reject(str(error)))
                continue
            earlier = recorded.get(action.key)
            if dry_run and earlier is not None and earlier.fingerprint != action.fingerprint():
                refused.append(parsed.reject(_conflict(action.key, program.name)))
                continue
            if dry_run:
                counts["replayed" if earlier is not None else "new"] += 1
                continue
            actions.append(Parsed(parsed.line, parsed.original, action))
        return actions, refused

    def flush(batch: list[Parsed[ActionRow]]) -> list[Reject]:
        actions, refused = resolve(batch)
        if not actions:
            return refused
        try:
            outcomes = program.record_many([p.value for p in actions])
        except AdvokitError:
            # something only the whole batch showed: find the rows, one at a time
            outcomes = []
            for parsed in actions:
                try:
                    outcomes.extend(program.record_many([parsed.value]))
                except AdvokitError as error:
                    refused.append(parsed.reject(str(error)))
        for outcome in outcomes:
            if outcome.replayed:
                counts["replayed"] += 1
            elif outcome.status is Status.REJECTED:
                counts["refused"] += 1
            else:
                counts[outcome.status.value] += 1
        return refused

    with source, RejectLog(rejects, source.columns) as log:
        counts["read"], ignored = run(
            source,
            ACTIONS,
            options,
            parse=lambda fields: parse(fields, kinds, zone, key_prefix, kind),
            flush=flush,
            missing=lambda fields: _missing(fields, kind_given=kind is not None),
            batch_size=batch_size,
            rejects=log,
            progress=progress,
        )
    return Summary.of("actions", source, counts, ignored, log, dry_run=dry_run)


def _email_problem(email: str, found: list[str]) -> str:
    if not found:
        return f"email={email!r} is not valid: expected the email of an enrolled advocate"
    shown = ", ".join(found[:3])
    return (
        f"email={email!r} is not valid: it is the email of {len(found)} advocates "
        f"({shown}): give the advocate's external id instead"
    )


def _not_enrolled(advocate: str, program: str) -> str:
    from advokit.core.errors import UnknownAdvocate

    return str(UnknownAdvocate(advocate, program))


def _conflict(key: str, program: str) -> str:
    from advokit.core.errors import IdempotencyConflict

    return str(IdempotencyConflict(key, program))
