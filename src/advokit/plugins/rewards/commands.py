"""``advokit rewards``: the rewards an operator looks after, and a person's decisions.

::

    advokit rewards list --state pending_approval     # the approval queue
    advokit rewards list --dead                        # what will not go on by itself
    advokit rewards show KEY                           # one reward and every move
    advokit rewards approve KEY --by maria --reason "loyal since 2019"
    advokit rewards cancel|retry|fail KEY --by NAME --reason TEXT
    advokit rewards complete KEY --by NAME --reason TEXT [--result JSON]

Registered by the rewards plugin (``advokit_register_commands``), so it is
there for a program that has the plugin: ``advokit --program app:program
rewards ...``. Every decision is kept in the reward's history with its actor
and reason.
"""

from __future__ import annotations

import json
from typing import Any

import click

from advokit.cli import CLIError, current_program, print_table
from advokit.plugins.rewards.model import IssuedReward, RewardState, Transition

__all__ = ["rewards_group"]

_STATES = click.Choice([state.value for state in RewardState])


@click.group("rewards")
def rewards_group() -> None:
    """The program's rewards: queues, history, and a person's decisions."""


@rewards_group.command("list")
@click.option("--advocate", metavar="ID", help="Only this advocate's rewards.")
@click.option("--state", "states", multiple=True, type=_STATES, help="Only these states.")
@click.option("--dead", is_flag=True, help="The dead letters: failed, or reversal given up.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_command(
    advocate: str | None, states: tuple[str, ...], dead: bool, limit: int, as_json: bool
) -> None:
    """List rewards, oldest first."""
    program = current_program()
    if dead:
        if advocate or states:
            raise CLIError("--dead lists every dead letter: it takes no --advocate or --state")
        found = program.dead_letters(limit=limit)
    else:
        found = program.rewards(advocate, states=states or None, limit=limit)
    if as_json:
        click.echo(json.dumps([_reward(r) for r in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("No rewards.")
        return
    rows = [
        (
            r.key,
            r.advocate,
            r.reward.kind,
            _amount(r),
            r.state.value,
            str(r.attempts),
            r.error or "",
        )
        for r in found
    ]
    print_table(("KEY", "ADVOCATE", "KIND", "AMOUNT", "STATE", "TRIES", "ERROR"), rows)


@rewards_group.command("show")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_command(key: str, as_json: bool) -> None:
    """Show one reward and every move it made."""
    program = current_program()
    reward = program.reward(key)
    if reward is None:
        raise CLIError(f"no reward keyed {key!r} in program {program.name!r}")
    history = program.reward_history(key)
    if as_json:
        shown = {**_reward(reward), "history": [_move(t) for t in history]}
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    for name, value in _reward(reward).items():
        if value is not None:
            click.echo(f"{name}: {json.dumps(value) if isinstance(value, dict) else value}")
    click.echo("history:")
    for move in history:
        before = move.before.value if move.before else "(issued)"
        click.echo(
            f"  {move.at.isoformat()}  {before} -> {move.after.value}  "
            f"by {move.actor}: {move.reason}"
        )


def _decision(name: str, summary: str) -> click.Command:
    """``advokit rewards NAME KEY --by NAME --reason TEXT``: ``program.NAME_reward(...)``."""

    @rewards_group.command(name, help=summary)
    @click.argument("key")
    @click.option("--by", required=True, metavar="NAME", help="Who decides.")
    @click.option("--reason", required=True, metavar="TEXT", help="Why.")
    def decide(key: str, by: str, reason: str) -> None:
        program = current_program()
        who = {"reviewer": by} if name == "approve" else {"actor": by}
        reward = getattr(program, f"{name}_reward")(key, reason=reason, **who)
        click.echo(json.dumps(_reward(reward), indent=2, ensure_ascii=False))

    return decide


for _name, _summary in (
    ("approve", "Let a reward waiting for approval through."),
    ("cancel", "Cancel a reward not fulfilled yet."),
    ("retry", "Send a dead letter back: a failed reward, or a reversal given up on."),
    ("fail", "Give up on a reward handed to a person."),
):
    _decision(_name, _summary)


@rewards_group.command("complete")
@click.argument("key")
@click.option("--by", required=True, metavar="NAME", help="Who fulfilled it.")
@click.option("--reason", required=True, metavar="TEXT", help="What was done.")
@click.option("--result", "result_json", metavar="JSON", help="What to keep, a JSON object.")
def complete_command(key: str, by: str, reason: str, result_json: str | None) -> None:
    """Mark a reward handed to a person as fulfilled."""
    result = None
    if result_json is not None:
        try:
            result = json.loads(result_json)
        except json.JSONDecodeError as error:
            raise CLIError(f"--result is not valid JSON: {error}") from None
    program = current_program()
    reward = program.complete_reward(key, actor=by, reason=reason, result=result)
    click.echo(json.dumps(_reward(reward), indent=2, ensure_ascii=False))


def _amount(reward: IssuedReward) -> str:
    amount = reward.reward.amount
    return f"{amount} {reward.reward.currency}" if reward.reward.currency else str(amount)


def _reward(reward: IssuedReward) -> dict[str, Any]:
    when = reward.next_attempt_at
    return {
        "key": reward.key,
        "advocate": reward.advocate,
        "kind": reward.reward.kind,
        "amount": reward.reward.amount,
        "currency": reward.reward.currency,
        "description": reward.reward.description,
        "state": reward.state.value,
        "item": reward.item,
        "cause": reward.cause,
        "attempts": reward.attempts,
        "next_attempt_at": None if when is None else when.isoformat(),
        "error": reward.error,
        "reversal": reward.reversal,
        "result": None if reward.result is None else dict(reward.result),
        "created_at": reward.created_at.isoformat(),
        "updated_at": reward.updated_at.isoformat(),
    }


def _move(move: Transition) -> dict[str, Any]:
    return {
        "before": None if move.before is None else move.before.value,
        "after": move.after.value,
        "at": move.at.isoformat(),
        "actor": move.actor,
        "reason": move.reason,
    }
