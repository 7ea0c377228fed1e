"""``import_advocates``: rows -> validated advocates, upserted idempotently.

Each row is read into the fields it states (an empty cell states nothing),
validated and normalised (email by email-validator, phone to E.164 by
phonenumbers), then merged into the advocate it identifies:

* by its external id when the row has one;
* else by its email (letter case ignored): the one advocate with that email,
  or a new advocate whose external id is the email; a row whose email several
  advocates share is rejected, since it cannot tell which one it means.

A field the row leaves empty keeps its value; attributes are added to the
advocate's; consent is set per channel only for the channels the row states
(see :func:`merge`). Each row is counted against the advocate as the rows
before it left it: ``created``, ``updated``, or ``unchanged`` when it changes
nothing. Unchanged advocates are not written, so importing a file a second
time writes nothing and reports every row unchanged.

A batch is read and written in one transaction, its advocates locked while
it merges, so that an unsubscribe arriving meanwhile is neither lost nor
overwritten with what the file said before it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from advokit.core.errors import InvalidValue
from advokit.core.model import Advocate, Consent
from advokit.importing import values as v
from advokit.importing.batches import Parsed, run
from advokit.importing.columns import ADVOCATES, parse_map
from advokit.importing.lookup import by_email, by_external_id, email_key
from advokit.importing.report import Reject, RejectLog, Summary
from advokit.importing.source import open_source

if TYPE_CHECKING:
    from advokit.core.program import Program

__all__ = ["AdvocateRow", "import_advocates", "merge"]

#: Row fields that are Advocate fields as they are.
_PLAIN = ("kind", "locale", "timezone", "slack_id")


@attrs.frozen
class AdvocateRow:
    """What one row says about an advocate: only the fields it states.

    ``changes`` are Advocate fields (``name``, ``email``, ``phone``...);
    ``consent`` maps a channel to granted (True) or withdrawn (False).
    """

    external_id: str | None
    email: str | None
    changes: dict[str, Any]
    attributes: dict[str, Any]
    consent: dict[str, bool]


def parse(fields: dict[str, Any], region: str | None) -> AdvocateRow:
    """Read a row's fields; InvalidValue for the first bad one."""
    external_id = v.text("external_id", fields.get("external_id"))
    raw_email = v.text("email", fields.get("email"))
    email = v.email(raw_email) if raw_email else None
    if external_id is None and email is None:
        raise InvalidValue(
            "external_id", None, "an external id or an email to tell which advocate the row is"
        )
    changes: dict[str, Any] = {}
    if email is not None:
        changes["email"] = email
    name = v.words("name", fields.get("name"))
    if name is None:
        parts = (v.words(f, fields.get(f)) for f in ("first_name", "last_name"))
        name = " ".join(part for part in parts if part) or None
    if name is not None:
        changes["name"] = name
    raw_phone = v.text("phone", fields.get("phone"))
    if raw_phone is not None:
        changes["phone"] = v.phone(raw_phone, region)
    for field in _PLAIN:
        value = v.text(field, fields.get(field))
        if value is not None:
            changes[field] = value
    attributes: dict[str, Any] = dict(v.json_object("attributes", fields.get("attributes")) or {})
    consent: dict[str, bool] = {}
    for channel, value in (v.json_object("consent", fields.get("consent")) or {}).items():
        granted = v.consent(f"consent.{channel}", value)
        if granted is not None:
            consent[str(channel)] = granted
    for field, value in fields.items():
        prefix, _, name_ = field.partition(".")
        if prefix == "attributes" and name_:
            kept = value.strip() if isinstance(value, str) else value
            if kept not in ("", None):
                attributes[name_] = kept
        elif prefix == "consent" and name_:
            granted = v.consent(field, value)
            if granted is not None:
                consent[name_] = granted
    return AdvocateRow(external_id, email, changes, attributes, consent)


def merge(
    current: Advocate | None, row: AdvocateRow, external_id: str, source: str
) -> tuple[Advocate, bool]:
    """The advocate after ``row``, and whether a granted consent was kept withdrawn.

    Consent is taken verbatim from the row, channel by channel, recorded with
    ``source`` ("import:FILE") and no basis nor time, which the file does not
    state. A channel whose value equals the one recorded keeps its record. A
    file may withdraw consent; it never re-grants a consent recorded as
    withdrawn (an unsubscribe link, a STOP reply, an earlier file): that takes
    the person's fresh consent, recorded where it is given.
    """
    kept_withdrawn = False
    consents = dict(current.consent) if current is not None else {}
    for channel, granted in row.consent.items():
        recorded = consents.get(channel)
        if recorded is not None and recorded.granted == granted:
            continue
        if recorded is not None and granted and not recorded.granted:
            kept_withdrawn = True
            continue
        consents[channel] = Consent(granted=granted, source=source)
    if current is None:
        advocate = Advocate(
            external_id=external_id, **row.changes, attributes=row.attributes, consent=consents
        )
    else:
        advocate = attrs.evolve(
            current,
            **row.changes,
            attributes={**current.attributes, **row.attributes},
            consent=consents,
        )
    return advocate, kept_withdrawn


def _missing(fields: Collection[str]) -> str | None:
    if "external_id" in fields or "email" in fields:
        return None
    return "gives neither external_id nor email (one of them tells which advocate a row is)"


def import_advocates(
    program: Program,
    path: str | Path,
    *,
    mapping: Iterable[str] = (),
    region: str | None = None,
    format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    batch_size: int = 2000,
    dry_run: bool = False,
    rejects: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Import advocates from a CSV or JSON Lines file into ``program``.

    Args:
        program: the :class:`~advokit.Program` (migrated).
        path: the file; see :func:`~advokit.importing.source.open_source` for
            ``format``, ``encoding`` and ``delimiter``.
        mapping: ``COLUMN=FIELD`` items (``--map``): ``"Customer no=external_id"``;
            an empty FIELD ignores the column.
        region: the default region of national phone numbers (``GB``, ``US``).
        batch_size: rows per transaction.
        dry_run: validate and count, write nothing.
        rejects: where to write every rejected row (CSV), if anywhere.
        progress: called with the bytes read so far after each batch.

    Returns:
        The :class:`~advokit.importing.report.Summary`: read, created,
        updated, unchanged and rejected rows, and the first rejects.

    Raises:
        FileNotImportable: the file cannot be read or its header gives no
            external_id nor email. InvalidValue: a bad option.
    """
    from advokit.core.store import database
    from advokit.core.store import queries as q

    options = parse_map(mapping, ADVOCATES)
    if region is not None:
        region = v.region(region)
    if not isinstance(batch_size, int) or not 1 <= batch_size <= 10_000:
        raise InvalidValue("batch_size", batch_size, "an integer from 1 to 10000")
    counts = {"read": 0, "created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    kept = [0]
    name = program.name
    engine = program.engine  # refuses an unmigrated database before reading anything
    source = open_source(path, format=format, encoding=encoding, delimiter=delimiter)
    origin = f"import:{source.path.name}"

    def flush(batch: list[Parsed[AdvocateRow]]) -> list[Reject]:
        def attempt() -> tuple[dict[str, int], list[Reject], int]:
            with database.transaction(engine, write=not dry_run) as conn:
                outcome = _merge_batch(conn, name, batch, origin, lock=not dry_run)
                changed, tally, refused, kept_withdrawn = outcome
                if not dry_run:
                    now = program.clock()
                    q.upsert_advocates(conn, [q.advocate_row(name, a, now) for a in changed])
            return tally, refused, kept_withdrawn

        tally, refused, kept_withdrawn = database.retrying(attempt)
        for key, value in tally.items():
            counts[key] += value
        kept[0] += kept_withdrawn
        return refused

    with source, RejectLog(rejects, source.columns) as log:
        counts["read"], ignored = run(
            source,
            ADVOCATES,
            options,
            parse=lambda fields: parse(fields, region),
            flush=flush,
            missing=_missing,
            batch_size=batch_size,
            rejects=log,
            progress=progress,
        )
    notes: tuple[str, ...] = ()
    if kept[0]:
        notes = (
            f"{kept[0]} rows said yes to a consent recorded as withdrawn: kept withdrawn "
            "(an import never re-grants consent)",
        )
    return Summary.of("advocates", source, counts, ignored, log, notes=notes, dry_run=dry_run)


def _merge_batch(
    conn: Any, program: str, batch: list[Parsed[AdvocateRow]], origin: str, *, lock: bool
) -> tuple[list[Advocate], dict[str, int], list[Reject], int]:
    """Merge a batch into the advocates it names (read in two statements at most).

    Returns the advocates to write, the counts, the rows rejected and how many
    rows had a consent kept withdrawn.
    """
    by_email_only = {email_key(p.value.email) for p in batch if p.value.external_id is None}
    matches = by_email(conn, program, by_email_only, lock=lock) if by_email_only else {}
    # an email-only row with no match becomes an advocate whose external id is its email
    ids = {p.value.external_id for p in batch if p.value.external_id is not None}
    ids |= {p.value.email for p in batch if p.value.external_id is None}  # type: ignore[misc]
    stored: dict[str, Advocate] = by_external_id(conn, program, ids, lock=lock)
    for found in matches.values():
        stored.update((a.external_id, a) for a in found)

    pending: dict[str, Advocate] = {}  # what this batch writes, by external id
    pending_emails: dict[str, set[str]] = {}  # their external ids by email key
    tally = {"created": 0, "updated": 0, "unchanged": 0}
    refused: list[Reject] = []
    kept_withdrawn = 0
    for parsed in batch:
        row = parsed.value
        external_id = row.external_id
        if external_id is None:
            assert row.email is not None
            key = email_key(row.email)
            named = {a.external_id for a in matches.get(key, ())}
            named |= pending_emails.get(key, set())
            if len(named) > 1:
                refused.append(
                    parsed.reject(
                        f"email={row.email!r} is not valid: it is the email of "
                        f"{len(named)} advocates ({', '.join(sorted(named)[:3])}): add their "
                        "external id to the row"
                    )
                )
                continue
            external_id = named.pop() if named else row.email
        current = pending.get(external_id) or stored.get(external_id)
        try:
            advocate, kept = merge(current, row, external_id, origin)
        except InvalidValue as error:
            refused.append(parsed.reject(str(error)))
            continue
        kept_withdrawn += kept
        if advocate == current:
            tally["unchanged"] += 1
            continue
        tally["created" if current is None else "updated"] += 1
        pending[external_id] = advocate
        if advocate.email is not None:
            pending_emails.setdefault(email_key(advocate.email), set()).add(external_id)
    return list(pending.values()), tally, refused, kept_withdrawn
