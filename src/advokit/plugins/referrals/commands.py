"""``advokit review``: the actions held for a person, and their decisions.

::

    advokit review list [--limit 50] [--json]          # oldest first, with the reasons
    advokit review approve KEY --by maria --note "her brother"
    advokit review deny KEY --by maria --note "same device as the referrer"

Registered by the referrals plugin (``advokit_register_commands``): held
referral signups and approvals (the fraud plugin's scores, untrusted
advocates) are what a person decides on most. The queue is the program's
``program.review_queue()`` and a decision ``program.review(...)``: whatever
held the action, approving applies its effects once, denying applies none,
and both are kept in the audit trail (``advokit_reviews``) with who and why.
"""

from __future__ import annotations

import json
from typing import Any

import click

from advokit import HeldAction
from advokit.cli import current_program, outcome_json, print_table

__all__ = ["review_group"]


@click.group("review")
def review_group() -> None:
    """The actions held for a person's decision (fraud screening, trust)."""


@review_group.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(limit: int, as_json: bool) -> None:
    """List what waits for a decision, oldest first: why, and until when."""
    queue = current_program().review_queue(limit=limit)
    if as_json:
        click.echo(json.dumps([_held(item) for item in queue], indent=2, ensure_ascii=False))
        return
    if not queue:
        click.echo("Nothing waits for a decision.")
        return
    rows = [
        (
            item.action.key,
            item.action.kind,
            item.action.advocate,
            item.held_at.isoformat(timespec="seconds"),
            "-" if item.deadline is None else item.deadline.isoformat(timespec="seconds"),
            item.default,
            "; ".join(item.reasons),
        )
        for item in queue
    ]
    print_table(("KEY", "KIND", "ADVOCATE", "HELD AT", "DEADLINE", "THEN", "REASONS"), rows)


def _decision(approve: bool, summary: str) -> click.Command:
    """``advokit review approve|deny KEY --by NAME [--note TEXT]``."""

    @review_group.command("approve" if approve else "deny", help=summary)
    @click.argument("key")
    @click.option("--by", required=True, metavar="NAME", help="Who decides (kept in the audit).")
    @click.option("--note", metavar="TEXT", help="Why (kept in the audit).")
    @click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
    def decide(key: str, by: str, note: str | None, as_json: bool) -> None:
        outcome = current_program().review(key, approve=approve, reviewer=by, note=note)
        if as_json:
            click.echo(json.dumps(outcome_json(outcome), indent=2, ensure_ascii=False))
            return
        done = "Approved" if approve else "Denied"
        points = f", {outcome.points:+d} points" if outcome.points else ""
        reasons = f" ({'; '.join(outcome.reasons)})" if outcome.reasons else ""
        click.echo(
            f"{done} {outcome.kind} {outcome.key!r} of {outcome.advocate}: "
            f"{outcome.status.value}{points}{reasons}."
        )

    return decide


_decision(True, "Approve a held action: its effects apply now, once.")
_decision(False, "Deny a held action: it is rejected, nothing applies.")


def _held(item: HeldAction) -> dict[str, Any]:
    action = item.action
    return {
        "key": action.key,
        "kind": action.kind,
        "advocate": action.advocate,
        "occurred_at": None if action.occurred_at is None else action.occurred_at.isoformat(),
        "data": dict(action.data),
        "reasons": list(item.reasons),
        "held_at": item.held_at.isoformat(),
        "deadline": None if item.deadline is None else item.deadline.isoformat(),
        "default": item.default,
    }
