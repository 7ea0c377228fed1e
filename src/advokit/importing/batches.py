"""The loop both imports share: rows -> fields -> parsed values -> batches.

A row the parser refuses is rejected at once, with its line; the others are
gathered into batches and handed to the import's ``flush``, which writes a
batch in one transaction and may reject rows of its own (an email two
advocates share). A batch ends after ``batch_size`` rows, accepted or
rejected; its rejects are then written in line order, so memory holds one
batch whatever the size of the file and however many of its rows are bad.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Generic, TypeVar

import attrs

from advokit.core.errors import AdvokitError
from advokit.importing.columns import Columns, Fields
from advokit.importing.errors import FileNotImportable
from advokit.importing.report import Reject, RejectLog
from advokit.importing.source import Row, Source

__all__ = ["Parsed", "run"]

T = TypeVar("T")
#: Column names of JSON Lines files listed as ignored, at most (they may differ per line).
_IGNORED_SHOWN = 50
_KEYSETS_CACHED = 1000


@attrs.frozen
class Parsed(Generic[T]):
    """A row the parser accepted: its line, the row as the file had it, and the value."""

    line: int
    original: tuple[str, ...]
    value: T

    def reject(self, reason: str) -> Reject:
        return Reject(self.line, reason, self.original)


def run(
    source: Source,
    fields: Fields,
    mapping: Mapping[str, str | None],
    *,
    parse: Callable[[dict[str, Any]], T],
    flush: Callable[[list[Parsed[T]]], list[Reject]],
    missing: Callable[[Collection[str]], str | None],
    batch_size: int,
    rejects: RejectLog,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, tuple[str, ...]]:
    """Import every row of ``source``; returns how many rows were read and the
    columns ignored.

    ``missing(fields)`` says what a header (CSV) or a line (JSON Lines) lacks to
    be imported, or None: a CSV header lacking it stops the import before any
    row, a JSON line lacking it is rejected.
    """
    read = 0
    batch: list[Parsed[T]] = []
    refused: list[Reject] = []

    def write() -> None:
        refused.extend(flush(batch) if batch else ())
        rejects.write(refused)
        batch.clear()
        refused.clear()
        if progress is not None:
            progress(source.position)

    values, ignored = _fields_of(source, fields, mapping, missing)
    for row in source.rows():
        read += 1
        try:
            if row.problem is not None:
                raise _Refused(row.problem)
            parsed = Parsed(row.line, row.original, parse(values(row)))
        except (_Refused, AdvokitError) as error:
            refused.append(Reject(row.line, str(error), row.original))
        else:
            batch.append(parsed)
        # rejects count too: a long run of bad rows must not pile up in memory
        if len(batch) + len(refused) >= batch_size:
            write()
    write()
    return read, ignored()


class _Refused(Exception):
    """A row that cannot be read or lacks a required field; str() is the reason."""


def _fields_of(
    source: Source,
    fields: Fields,
    mapping: Mapping[str, str | None],
    missing: Callable[[Collection[str]], str | None],
) -> tuple[Callable[[Row], dict[str, Any]], Callable[[], tuple[str, ...]]]:
    """How to read a row's fields, and the ignored columns once the file is read."""
    file = source.path.name
    if source.columns is not None:  # CSV: one header for every row
        columns = Columns.resolve(source.columns, fields, mapping, file=file)
        lacking = missing(columns.fields())
        if lacking is not None:
            shown = ", ".join(repr(c) for c in source.columns)
            raise FileNotImportable(
                f"{file} {lacking}; its columns are {shown}: name the column with "
                "--map COLUMN=FIELD"
            )
        return (lambda row: columns.values(row.values)), lambda: columns.ignored

    # JSON Lines: each line names its own keys, usually the same ones
    resolved: dict[tuple[str, ...], Columns] = {}
    ignored: dict[str, None] = {}

    def values(row: Row) -> dict[str, Any]:
        keys = tuple(row.values)
        columns = resolved.get(keys)
        if columns is None:
            try:
                columns = Columns.resolve(keys, fields, mapping, file=file, check_map=False)
            except FileNotImportable as error:
                raise _Refused(str(error)) from None
            lacking = missing(columns.fields())
            if lacking is not None:
                raise _Refused(f"the line {lacking}")
            if len(resolved) < _KEYSETS_CACHED:
                resolved[keys] = columns
            for name in columns.ignored:
                if len(ignored) < _IGNORED_SHOWN:
                    ignored[name] = None
        return columns.values(row.values)

    return values, lambda: tuple(ignored)
