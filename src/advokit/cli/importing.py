"""``advokit import advocates|actions FILE``: CSV or JSON Lines into a program.

::

    advokit --program shop:program import advocates customers.csv --region GB
    advokit --program shop:program import advocates hubspot.csv --map "Stage=attributes.stage"
    advokit --program shop:program import actions orders.csv --timezone Europe/London

A progress bar shows on a terminal; the last line printed is always the
summary (``advocates: read 1000, created 990, updated 5, unchanged 2, rejected 3``),
after the first rejected rows with their line and reason (``--rejects FILE``
writes them all). See docs/importing.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from advokit.cli import CLIError, _print_json, current_program

__all__ = ["import_group"]


@click.group("import")
def import_group() -> None:
    """Import advocates or past actions from CSV or JSON Lines."""


def _file_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options both imports take, in the order --help shows them."""
    for option in reversed(
        (
            click.argument("file"),
            click.option(
                "--map",
                "mapping",
                multiple=True,
                metavar="COLUMN=FIELD",
                help="Read COLUMN as FIELD (repeatable); COLUMN= ignores the column.",
            ),
            click.option("--format", metavar="csv|jsonl", help="Default: from the file name."),
            click.option("--encoding", metavar="CODEC", help="Default: detected."),
            click.option("--delimiter", metavar="CHAR", help="CSV delimiter (default: sniffed)."),
            click.option(
                "--rejects",
                metavar="FILE",
                help="Write every rejected row to FILE (CSV: line, reason, the row).",
            ),
            click.option("--dry-run", is_flag=True, help="Check every row, write nothing."),
            click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON."),
        )
    ):
        command = option(command)
    return command


@import_group.command("advocates")
@_file_options
@click.option("--region", metavar="CC", help="Region of national phone numbers (GB, US...).")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=2000, show_default=True)
def import_advocates_command(
    file: str,
    mapping: tuple[str, ...],
    format: str | None,
    encoding: str | None,
    delimiter: str | None,
    rejects: str | None,
    dry_run: bool,
    as_json: bool,
    region: str | None,
    batch_size: int,
) -> None:
    """Create or update advocates from FILE (CSV or JSON Lines).

    Rows are matched to advocates by external id, or else by email; importing
    the same file again changes nothing. Empty cells change nothing; consent
    columns are taken as written (yes/no, true/false, 1/0,
    subscribed/unsubscribed), never guessed.
    """
    from advokit.importing import import_advocates

    program = current_program()
    with _progress(file, as_json) as progress:
        summary = import_advocates(
            program,
            file,
            mapping=mapping,
            region=region,
            format=format,
            encoding=encoding,
            delimiter=delimiter,
            batch_size=batch_size,
            dry_run=dry_run,
            rejects=_rejects_path(rejects),
            progress=progress,
        )
    _show(summary, as_json, rejects)


@import_group.command("actions")
@_file_options
@click.option("--kind", metavar="KIND", help="Kind of the rows without one (no kind column).")
@click.option("--timezone", metavar="ZONE", help="Zone of times without an offset.")
@click.option("--key-prefix", default="", metavar="TEXT", help="Put before every key.")
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=1000, show_default=True)
def import_actions_command(
    file: str,
    mapping: tuple[str, ...],
    format: str | None,
    encoding: str | None,
    delimiter: str | None,
    rejects: str | None,
    dry_run: bool,
    as_json: bool,
    kind: str | None,
    timezone: str | None,
    key_prefix: str,
    batch_size: int,
) -> None:
    """Record past actions from FILE through the program's rules and screens.

    Columns: kind (or --kind for all rows), advocate (external id) or email,
    key (required: the idempotency key), occurred_at, and data as a JSON
    "data" column and/or "data.NAME" columns. Importing the same file again
    replays every row.
    """
    from advokit.importing import import_actions

    program = current_program()
    with _progress(file, as_json) as progress:
        summary = import_actions(
            program,
            file,
            mapping=mapping,
            kind=kind,
            timezone=timezone,
            key_prefix=key_prefix,
            format=format,
            encoding=encoding,
            delimiter=delimiter,
            batch_size=batch_size,
            dry_run=dry_run,
            rejects=_rejects_path(rejects),
            progress=progress,
        )
    _show(summary, as_json, rejects)


def _rejects_path(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value)
    if not path.parent.is_dir():
        raise CLIError(f"--rejects={value!r} is not valid: expected a file in an existing folder")
    return path


@contextmanager
def _progress(file: str, as_json: bool) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over the file's bytes on a terminal; nothing otherwise."""
    path = Path(file)
    if as_json or not sys.stdout.isatty() or not path.is_file():
        yield None
        return
    with click.progressbar(length=path.stat().st_size, label=f"Importing {path.name}") as bar:

        def advance(position: int) -> None:
            bar.update(max(0, min(position, bar.length or 0) - bar.pos))

        yield advance


def _show(summary: Any, as_json: bool, rejects: str | None) -> None:
    if as_json:
        _print_json(summary.to_json())
        return
    for reject in summary.rejects:
        click.echo(f"Rejected line {reject.line}: {reject.reason}")
    more = summary["rejected"] - len(summary.rejects)
    if more > 0:
        where = f"all are in {rejects}" if rejects else "pass --rejects FILE to get them all"
        click.echo(f"... and {more} more rejected rows ({where})")
    if summary.ignored_columns:
        click.echo("Ignored columns: " + ", ".join(summary.ignored_columns))
    for note in summary.notes:
        click.echo(f"Note: {note}")
    click.echo(summary.line())
