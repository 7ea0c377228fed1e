"""``advokit simulate --from --to``: a backtest of the program's current rules.

::

    advokit --program shop:program simulate --from 2026-05-01 --to 2026-06-01
    advokit --program shop:program simulate --from 2026-05-01 --to 2026-06-01 --json
    advokit --program shop:program simulate --from 2026-05-01 --to 2026-06-01 \\
        --window-only --ticks hourly --keep may.db

Replays the actions recorded in the program's database against the rules the
program has now, in a throwaway SQLite database, and prints what they would
have been awarded next to what they were: see :mod:`advokit.core.simulation`.
The program's database is only read.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from advokit.core.simulation import Backtest, Summary

__all__ = ["simulate_command"]


@click.command("simulate")
@click.option("--from", "start", required=True, metavar="DATE", help="Window start (included).")
@click.option("--to", "end", required=True, metavar="DATE", help="Window end (excluded).")
@click.option(
    "--ticks",
    type=click.Choice(["daily", "hourly", "none"]),
    default="daily",
    show_default=True,
    help="How often the tick runs in the simulation (at midnight UTC, on the hour).",
)
@click.option(
    "--window-only",
    is_flag=True,
    help="Replay only the window's actions: advocates start it with nothing.",
)
@click.option(
    "--top",
    type=click.IntRange(1, 100),
    default=5,
    show_default=True,
    help="How many advocates the rankings list.",
)
@click.option(
    "--keep",
    metavar="PATH",
    help="Keep the simulated database in this new file (deleted if the simulation fails).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def simulate_command(
    start: str, end: str, ticks: str, window_only: bool, top: int, keep: str | None, as_json: bool
) -> None:
    """Replay past actions against the program's current rules in a throwaway database.

    Prints what the actions that occurred from --from to --to (ISO dates,
    midnight UTC, or times with an offset) would have been awarded under the
    rules the program has now, next to what they were awarded: actions by
    status and kind, points by reason, rewards issued, the top advocates.
    The actions before --from are replayed too (unless --window-only), so
    that balances, caps and tiers are what the current rules make them.
    Nothing is sent and the program's database is only read.
    """
    from advokit.cli import CLIError, current_program, when_option
    from advokit.core.simulation import simulate

    first, last = when_option("--from", start), when_option("--to", end)
    assert first is not None  # both options are required
    assert last is not None
    if last <= first:
        raise CLIError(f"--to={end!r} is not valid: expected a time after --from={start!r}")
    backtest = simulate(
        current_program(),
        first,
        last,
        history=not window_only,
        ticks=ticks,
        top=top,
        keep=keep,
    )
    if as_json:
        click.echo(json.dumps(backtest.to_json(), indent=2, ensure_ascii=False))
        return
    for line in _report(backtest):
        click.echo(line.rstrip())


def _report(backtest: Backtest) -> list[str]:
    replay = backtest.replay
    lines = [
        f"Backtest of program {backtest.program!r} from {backtest.start.isoformat()} "
        f"to {backtest.end.isoformat()} against its current rules",
        f"Replayed {_count(replay.actions, 'action')} ({replay.in_window} in the window), "
        f"{_count(replay.decisions, 'decision')} and {_count(replay.ticks, 'tick')} "
        f"in {replay.seconds:.1f} s; nothing was sent, the program's database was only read.",
    ]
    for why, count in sorted(replay.skipped.items()):
        lines.append(f"Not replayed: {count} x {why}")
    rows = _rows(backtest.actual, backtest.simulated)
    width = max([len(label) for label, _, _ in rows] + [10])
    lines.append("")
    lines.append(f"{'':{width}}  {'actual':>10}  {'simulated':>10}  {'difference':>10}")
    for label, actual, simulated in rows:
        lines.append(f"{label:{width}}  {actual:>10}  {simulated:>10}  {simulated - actual:>+10}")
    lines.append("")
    lines.append("Top advocates by points earned in the window:")
    for name, summary in (("actual", backtest.actual), ("simulated", backtest.simulated)):
        shown = ", ".join(f"{s.rank}. {s.advocate} {s.value}" for s in summary.top) or "none"
        lines.append(f"  {name + ':':11}{shown}")
    return lines


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _rows(actual: Summary, simulated: Summary) -> list[tuple[str, int, int]]:
    """``(label, actual, simulated)`` lines: statuses, kinds, points, rewards."""
    rows: list[tuple[str, int, int]] = []
    statuses = ("applied", "held", "rejected")
    for status in statuses:
        rows.append(
            (
                f"actions {status}",
                sum(by.get(status, 0) for by in actual.actions.values()),
                sum(by.get(status, 0) for by in simulated.actions.values()),
            )
        )
    for kind in sorted({*actual.actions, *simulated.actions}):
        for status in statuses:
            was = actual.actions.get(kind, {}).get(status, 0)
            now = simulated.actions.get(kind, {}).get(status, 0)
            if was or now:
                rows.append((f"  {kind} {status}", was, now))
    for account in sorted({*actual.totals, *simulated.totals}):
        named = "" if account == "points" else f" ({account})"
        for total in ("awarded", "reversed", "spent", "expired", "net"):
            was = actual.totals.get(account, {}).get(total, 0)
            now = simulated.totals.get(account, {}).get(total, 0)
            if total == "awarded" or was or now:
                rows.append((f"points {total}{named}", was, now))
            if total == "awarded":
                reasons = {**actual.points.get(account, {}), **simulated.points.get(account, {})}
                for reason in sorted(reasons):
                    rows.append(
                        (
                            f"  {reason}",
                            actual.points.get(account, {}).get(reason, 0),
                            simulated.points.get(account, {}).get(reason, 0),
                        )
                    )
    if actual.rewards is not None and simulated.rewards is not None:
        for kind in sorted({*actual.rewards, *simulated.rewards}):
            for figure in ("count", "amount"):
                rows.append(
                    (
                        f"rewards {kind} {figure}",
                        actual.rewards.get(kind, {}).get(figure, 0),
                        simulated.rewards.get(kind, {}).get(figure, 0),
                    )
                )
    return rows
