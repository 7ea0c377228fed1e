"""``advokit leaderboard``: a board's standings.

::

    advokit leaderboard                                    # the first board, all time, top 10
    advokit leaderboard --board reviewers --window week    # this week's
    advokit leaderboard --window week --at 2026-05-25      # the week of that day
    advokit leaderboard --from 2026-06-01 --to 2026-06-14  # a range of days, both included
    advokit leaderboard --segment vip --ranking dense --limit 20
    advokit leaderboard --advocate ann --neighbours 2      # where ann stands
    advokit leaderboard --json

Registered by the leaderboards plugin (``advokit_register_commands``): the
figures are ``program.board(...)`` and ``program.board_position(...)``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

import click

from advokit import Standing
from advokit.cli import CLIError, current_program, instant_option, plugin_of
from advokit.core.errors import one_of
from advokit.plugins.leaderboards.model import MAX_RANGE_DAYS, RANKINGS, WINDOWS, BoardPosition
from advokit.plugins.leaderboards.plugin import Leaderboards

__all__ = ["leaderboard_command"]

_WINDOW_NAMES = {"all": "all time", "today": "today", "week": "this week", "month": "this month"}


@click.command("leaderboard")
@click.option("--board", metavar="NAME", help="The board (default: the program's first).")
@click.option(
    "--window",
    type=click.Choice(WINDOWS),
    help="all (the default), today, week (from Monday) or month, in the plugin's time zone.",
)
@click.option(
    "--at", metavar="DATE", help="The today, week or month window containing this day or time."
)
@click.option("--from", "first", metavar="DATE", help="A range of days: the first one.")
@click.option(
    "--to",
    "last",
    metavar="DATE",
    help=f"A range of days: the last one (included), at most {MAX_RANGE_DAYS} days after --from.",
)
@click.option("--segment", metavar="TAG", help="Only the advocates with this tag.")
@click.option("--ranking", type=click.Choice(RANKINGS), default="competition", show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=10, show_default=True)
@click.option("--advocate", metavar="ID", help="Where this advocate stands, with neighbours.")
@click.option("--neighbours", type=click.IntRange(0, 100), default=2, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def leaderboard_command(
    board: str | None,
    window: str | None,
    at: str | None,
    first: str | None,
    last: str | None,
    segment: str | None,
    ranking: str,
    limit: int,
    advocate: str | None,
    neighbours: int,
    as_json: bool,
) -> None:
    """Show a leaderboard: the top advocates of a board in a window.

    A board ranks points earned (spending never lowers it, expired points
    never count) or a count of actions; ties share a rank (--ranking).
    """
    program = current_program()
    plugin = plugin_of(program, Leaderboards)
    name = board if board is not None else next(iter(plugin.boards))
    if name not in plugin.boards:
        raise CLIError(f"--board={name!r} is not valid: expected {one_of(plugin.boards)}")
    if (first is None) != (last is None):
        raise CLIError("--from and --to give a range of days together: pass both")
    chosen: Any = window or "all"
    if first is not None and last is not None:
        if window is not None or at is not None:
            raise CLIError("--from and --to give the window: leave out --window and --at")
        chosen = _range(first, last)
    when = None if at is None else _instant("--at", at, plugin)
    if when is not None and chosen == "all":
        raise CLIError(
            f"--at={at!r} picks the window containing that day: "
            "pass --window today, week or month with it (all time has one window)"
        )
    options = {"window": chosen, "at": when, "segment": segment, "ranking": ranking}
    shown = {
        "board": name,
        "title": plugin.boards[name].title,
        "points": plugin.boards[name].points,  # the account ranked, or
        "count": plugin.boards[name].count,  # the action kind counted
        "window": chosen if isinstance(chosen, str) else "range",
        "period": _period(plugin, chosen, when or program.clock()),
        "segment": segment,
        "ranking": ranking,
    }
    if advocate is not None:
        position = program.board_position(name, advocate, neighbours=neighbours, **options)
        _show_position(shown, advocate, position, as_json)
        return
    standings = program.board(name, limit=limit, **options)
    if as_json:
        rows = [_standing(s) for s in standings]
        click.echo(json.dumps({**shown, "standings": rows}, indent=2, ensure_ascii=False))
        return
    click.echo(_heading(shown, f"top {limit}"))
    if not standings:
        click.echo("Nobody is ranked yet.")
        return
    _table(shown, standings)


def _show_position(
    shown: dict[str, Any], advocate: str, position: BoardPosition, as_json: bool
) -> None:
    listed = [*position.above, *([position.standing] if position.standing else []), *position.below]
    if as_json:
        mine = position.standing
        found = {
            "advocate": advocate,
            "standing": None if mine is None else _standing(mine),
            "above": [_standing(s) for s in position.above],
            "below": [_standing(s) for s in position.below],
        }
        click.echo(json.dumps({**shown, "position": found}, indent=2, ensure_ascii=False))
        return
    click.echo(_heading(shown, f"around {advocate}"))
    if position.standing is None:
        click.echo(f"{advocate} is not ranked on this board in this window.")
        return
    _table(shown, listed, mark=advocate)


def _table(shown: dict[str, Any], standings: list[Standing], mark: str | None = None) -> None:
    value = "COUNT" if shown["count"] else "POINTS"
    rows = [(str(s.rank), s.advocate, s.name or "", str(s.value)) for s in standings]
    header = ("RANK", "ADVOCATE", "NAME", value)
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(3)]
    for row, standing in zip((header, *rows), (None, *standings), strict=True):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        pointer = "<" if standing is not None and standing.advocate == mark else ""
        click.echo("  ".join([*cells, row[3].rjust(len(value)), pointer]).rstrip())


def _heading(shown: dict[str, Any], what: str) -> str:
    window = _WINDOW_NAMES.get(shown["window"], "")
    period = shown["period"]
    when = f"{window} ({period})" if window and period != "all" else (window or period)
    segment = f", segment {shown['segment']}" if shown["segment"] else ""
    return f"{shown['title']}: {when}{segment}, {what}, {shown['ranking']} ranking"


def _standing(standing: Standing) -> dict[str, Any]:
    return {
        "rank": standing.rank,
        "advocate": standing.advocate,
        "name": standing.name,
        "value": standing.value,
    }


def _day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CLIError(
            f"{option}={value!r} is not valid: expected a date such as 2026-06-01"
        ) from None


def _range(first: str, last: str) -> tuple[date, date]:
    """The days of ``--from`` and ``--to``, checked here so that the message names them."""
    start, end = _day("--from", first), _day("--to", last)
    if end < start:
        raise CLIError(f"--to={last!r} is not valid: expected a day on or after --from={first!r}")
    if (end - start).days > MAX_RANGE_DAYS:
        raise CLIError(
            f"--to={last!r} is not valid: expected a day at most {MAX_RANGE_DAYS} days "
            f"after --from={first!r}"
        )
    return start, end


def _instant(option: str, value: str, plugin: Leaderboards) -> datetime:
    """A day (its noon in the plugin's time zone: inside that day anywhere) or a time."""
    if len(value) == 10:
        return datetime.combine(_day(option, value), time(12), plugin.zone)
    when = instant_option(option, value)
    assert when is not None
    return when


def _period(plugin: Leaderboards, window: Any, when: datetime) -> str:
    """The period a window covers, as people read it: ``2026-W23``, ``2026-06``."""
    if not isinstance(window, str):
        return f"{window[0].isoformat()} to {window[1].isoformat()}"
    return plugin.period(window, when).split(":")[-1]  # without the stored prefix
