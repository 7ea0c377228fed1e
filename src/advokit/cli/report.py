"""``advokit report``: the program's figures in one self-contained HTML file.

::

    advokit --program shop:program report --out report.html
    advokit --program shop:program report --out q2.html --from 2026-04-01 --to 2026-07-01
    advokit --program shop:program report --out report.html --title "Bakery, spring" --json

Imports only click at the top (``advokit --help`` stays fast); the report
package is imported when the command runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from advokit.cli import CLIError, current_program, when_option
from advokit.cli.files import replace_file, writing

__all__ = ["report_command"]


def _checked_out(out: str) -> Path:
    """The file to write: in an existing, writable directory, and not a directory itself."""
    path = Path(out).expanduser()
    if not out.strip():
        raise CLIError(f"--out={out!r} is not valid: expected the path of the HTML file to write")
    if path.is_dir():
        raise CLIError(f"--out={out!r} is a directory: expected the path of a file to write")
    folder = path.parent.resolve()
    if not folder.is_dir():
        raise CLIError(f"--out={out!r} is not valid: the directory {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CLIError(f"--out={out!r} is not valid: the directory {str(folder)!r} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise CLIError(f"--out={out!r} is not valid: the file exists and is not writable")
    return folder / path.name


@click.command("report")
@click.option("--out", metavar="FILE", help="The HTML file to write (replaced if it exists).")
@click.option("--from", "start", metavar="DATE", help="Window start (ISO date or datetime).")
@click.option("--to", "end", metavar="DATE", help="Window end, excluded.")
@click.option("--title", metavar="TEXT", help="The report's title.")
@click.option(
    "--holdout",
    metavar="NAME",
    help="The holdout experiment of the holdout-based ROI (default: the first configured).",
)
@click.option(
    "--top",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="How many advocates the rankings list.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report's figures as JSON.")
def report_command(
    out: str | None,
    start: str | None,
    end: str | None,
    title: str | None,
    holdout: str | None,
    top: int,
    as_json: bool,
) -> None:
    """Write the program's report as one self-contained HTML file.

    NPS by month with its margin of error, advocates by tier and type, the
    referral funnel, top advocates, time to advocacy, rewards and their cost,
    ROI naive and holdout-based: the figures of "advokit score" for the same
    window. A part whose scorer is missing or has no data is left out with a
    note saying why. The file has no script and links to nothing: it opens
    offline and prints a page per panel. With --json, the figures are printed
    as JSON (with --out, the file is written too).
    """
    if out is None and not as_json:
        raise CLIError("--out is required: the HTML file to write (or --json to print the figures)")
    path = _checked_out(out) if out is not None else None
    window = (when_option("--from", start), when_option("--to", end))
    program = current_program()
    from advokit.report import build_report, render_html

    data = build_report(program, window, title=title, holdout=holdout, top=top)
    if path is not None:
        html = render_html(data)
        with writing(str(path)):  # what the checks could not foresee: a full disk, /proc...
            replace_file(path, html)
    left_out = [panel for panel in data.panels if not panel.shown]
    if as_json:
        shown = {"out": None if path is None else str(path), **data.to_json()}
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    for panel in left_out:
        click.echo(f"Note: {panel.title} left out: {'; '.join(panel.notes)}", err=True)
    click.echo(str(path))
