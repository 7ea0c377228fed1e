"""``advokit score NAME``: print a metric.

::

    advokit --program shop:program score nps --by month --from 2026-01-01
    advokit --program shop:program score csat --segment vip --json
    advokit --program shop:program score nps --option survey=onboarding
    advokit --program shop:program score --list
"""

from __future__ import annotations

import json
from typing import Any

import click

from advokit.cli import CLIError, current_program, when_option

__all__ = ["score_command"]


def _option(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise CLIError(f"--option={text!r} is not valid: expected NAME=VALUE")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw  # a bare word: a string
    return name, value


@click.command("score")
@click.argument("name", required=False)
@click.option("--segment", metavar="NAME", help="Only the advocates of this segment.")
@click.option("--from", "start", metavar="DATE", help="Window start (ISO date or datetime).")
@click.option("--to", "end", metavar="DATE", help="Window end, excluded.")
@click.option("--by", type=click.Choice(["day", "week", "month", "year"]), help="Per period too.")
@click.option("--option", "options", multiple=True, metavar="NAME=VALUE", help="A scorer option.")
@click.option("--list", "show_list", is_flag=True, help="List the metrics.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def score_command(
    name: str | None,
    segment: str | None,
    start: str | None,
    end: str | None,
    by: str | None,
    options: tuple[str, ...],
    show_list: bool,
    as_json: bool,
) -> None:
    """Compute the metric NAME (nps, csat, k_factor...): see docs/metrics.md."""
    program = current_program()
    scorers = program.registries.scorers
    if show_list or name is None:
        for scorer_name in sorted(scorers):
            click.echo(f"{scorer_name:24} {getattr(scorers[scorer_name], 'description', '')}")
        return
    score = program.score(
        name,
        segment=segment,
        window=(when_option("--from", start), when_option("--to", end)),
        by=by,
        **dict(_option(o) for o in options),
    )
    if as_json:
        click.echo(json.dumps(score.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(str(score))
    for key, count in score.counts.items():
        click.echo(f"  {key}: {count}")
    for note in score.missing:
        click.echo(f"  missing: {note}")
    for period in score.periods:
        click.echo(f"  {period.period}  {period}")
    if score.periods and score.trend is not None:
        click.echo(f"  trend: {score.trend:+.2f} per {by}")
