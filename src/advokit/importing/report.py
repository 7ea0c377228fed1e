"""What an import did: counts, the ignored columns, and the rows it rejected.

Every rejected row is kept as ``(line, reason, the row as the file had it)``:
the first few in the summary, and all of them in the rejects file
(``--rejects FILE``), a CSV with columns ``line``, ``reason`` and then the
file's own columns, so that it can be corrected and imported again as it is
(``line`` and ``reason`` are not fields: they are ignored).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

__all__ = ["Reject", "RejectLog", "Summary"]

#: Rejected rows kept in the summary (and printed); the rejects file has them all.
SHOWN = 20


@attrs.frozen
class Reject:
    """A row that was not imported: the line it starts on, and why."""

    line: int
    reason: str
    original: tuple[str, ...] = attrs.field(default=(), eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


class RejectLog:
    """Collects rejected rows: keeps the first :data:`SHOWN`, writes all to ``path``.

    Rows are written in line order a batch at a time (:meth:`write`), so memory
    holds one batch's rejects at most.
    """

    def __init__(self, path: str | Path | None, columns: Sequence[str] | None) -> None:
        self.count = 0
        self.first: list[Reject] = []
        self._file: TextIO | None = None
        self._writer: Any = None
        if path is not None:
            # with a BOM: Excel, where these files are fixed, then reads UTF-8 right;
            # closed by close() (the log is a context manager)
            self._file = Path(path).open("w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._file)
            self._writer.writerow(["line", "reason", *(columns or ["row"])])

    def write(self, rejects: Iterable[Reject]) -> None:
        for reject in sorted(rejects, key=lambda r: r.line):
            self.count += 1
            if len(self.first) < SHOWN:
                self.first.append(reject)
            if self._writer is not None:
                self._writer.writerow([reject.line, reject.reason, *reject.original])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def __enter__(self) -> RejectLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@attrs.frozen(kw_only=True)
class Summary:
    """What one import did.

    ``counts`` in the order they are printed (advocates: ``read``, ``created``,
    ``updated``, ``unchanged``, ``rejected``; actions: ``read``, ``applied``,
    ``held``, ``refused``, ``replayed``, ``rejected``); ``rejects`` are the
    first :data:`SHOWN` rejected rows (``rejected`` counts them all).
    """

    what: str  # "advocates" or "actions"
    file: str
    format: str
    encoding: str
    delimiter: str | None
    ignored_columns: tuple[str, ...]
    counts: dict[str, int]
    rejects: tuple[Reject, ...]
    notes: tuple[str, ...] = ()
    dry_run: bool = False

    @classmethod
    def of(
        cls,
        what: str,
        source: Any,
        counts: dict[str, int],
        ignored: tuple[str, ...],
        log: RejectLog,
        *,
        notes: tuple[str, ...] = (),
        dry_run: bool = False,
    ) -> Summary:
        """The summary of an import of ``source`` (a :class:`~.source.Source`)."""
        return cls(
            what=what,
            file=str(source.path),
            format=source.format,
            encoding=source.encoding,
            delimiter=source.delimiter,
            ignored_columns=ignored,
            counts={**counts, "rejected": log.count},
            rejects=tuple(log.first),
            notes=notes,
            dry_run=dry_run,
        )

    def __getitem__(self, name: str) -> int:
        return self.counts[name]

    def line(self) -> str:
        """The one-line summary: ``advocates: read 10, created 7, ... rejected 1``."""
        counts = ", ".join(f"{name} {value}" for name, value in self.counts.items())
        return f"{self.what}: {counts}" + (" (dry run: nothing written)" if self.dry_run else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "file": self.file,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "ignored_columns": list(self.ignored_columns),
            **self.counts,
            "rejects": [r.to_json() for r in self.rejects],
            "notes": list(self.notes),
            "dry_run": self.dry_run,
        }
