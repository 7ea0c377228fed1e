"""``advokit advocate show ID``: one advocate, as an operator needs to see them.

::

    advokit --program shop:program advocate show c-1
    advokit --program shop:program advocate show c-1 --limit 50 --json

The profile (personal data included, in full: this is an operator's tool),
consent, tags, the balance of every account, the tier and badges (when the
program has those plugins) and the ledger, newest first, each entry with its
reason and the action that caused it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

__all__ = ["advocate_group"]


@click.group("advocate")
def advocate_group() -> None:
    """Look at one advocate."""


@advocate_group.command("show")
@click.argument("advocate_id", metavar="ID")
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=20,
    show_default=True,
    help="Ledger entries shown, newest first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_command(advocate_id: str, limit: int, as_json: bool) -> None:
    """Show an advocate: profile, consent, tags, balances, tier, badges and history."""
    from advokit.cli import current_program

    program = current_program()
    shown = _profile(program, advocate_id, limit)
    if as_json:
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    for line in _lines(shown):
        click.echo(line.rstrip())


def _profile(program: Any, external_id: str, limit: int) -> dict[str, Any]:
    """Everything shown, as JSON values; the tier and badges only with their plugins."""
    import sqlalchemy as sa

    from advokit.core.errors import UnknownAdvocate
    from advokit.core.store import database
    from advokit.core.store import queries as q

    a, b = q.advocates_t, q.balances_t
    with database.transaction(program.engine, write=False) as conn:
        row = conn.execute(
            sa.select(a).where(a.c.program == program.name, a.c.external_id == external_id)
        ).one_or_none()
        if row is None:
            raise UnknownAdvocate(external_id, program.name)
        balances = conn.execute(
            sa.select(b.c.account, b.c.balance, b.c.earned)
            .where(b.c.advocate_id == row.id)
            .order_by(b.c.account)
        ).all()
    advocate = q.advocate_from_row(row)
    enrolled_at, updated_at = row.enrolled_at, row.updated_at
    shown: dict[str, Any] = {
        "advocate": advocate.external_id,
        "kind": advocate.kind.value,
        "name": advocate.name,
        "email": advocate.email,
        "phone": advocate.phone,
        "slack_id": advocate.slack_id,
        "locale": advocate.locale,
        "timezone": advocate.timezone,
        "attributes": dict(advocate.attributes),
        "enrolled_at": enrolled_at.isoformat(),
        "updated_at": updated_at.isoformat(),
        "consent": {name: c.to_json() for name, c in sorted(advocate.consent.items())},
        "tags": sorted(program.tags(external_id)),
        "balances": {
            account: {"balance": int(balance), "earned": int(earned)}
            for account, balance, earned in balances
        },
    }
    if _has_query(program, "tier", "tiers"):
        shown["tier"] = _tier(program.tier(external_id))
    if _has_query(program, "badges", "badges"):
        shown["badges"] = [_badge(status) for status in program.badges(external_id)]
    shown["history"] = [
        {
            "at": entry.effective_at.isoformat(),
            "account": entry.account,
            "delta": entry.delta,
            "reason": entry.reason,
            "action": entry.action_key,
            "related_action": entry.related_action_key,
            "memo": entry.memo,
            "expires_at": _iso(entry.expires_at),
            "recorded_at": entry.created_at.isoformat(),
        }
        for entry in program.history(external_id, limit=limit)
    ]
    return shown


def _has_query(program: Any, query: str, plugin: str) -> bool:
    """Whether the built-in ``plugin`` (or one in its place) answers ``program.<query>()``."""
    queries = program.registries.queries
    return query in queries and queries.plugin_of(query) == plugin


def _tier(status: Any) -> dict[str, Any]:
    return {
        "tier": status.tier.name,
        "since": _iso(status.since),
        "value": status.value,
        "next_tier": None if status.next_tier is None else status.next_tier.name,
        "to_next": status.to_next,
        "kept_until": _iso(status.kept_until),
    }


def _badge(status: Any) -> dict[str, Any]:
    return {
        "badge": status.badge.name,
        "title": status.badge.title,
        "level": status.level,
        "value": status.value,
        "next_threshold": status.next_threshold,
        "awarded_at": _iso(status.awarded_at),
        "expires_at": _iso(status.expires_at),
    }


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def _lines(shown: dict[str, Any]) -> list[str]:
    """The profile as text, section by section."""
    lines = [f"{shown['advocate']} ({shown['kind']}), enrolled {shown['enrolled_at']}"]
    for field in ("name", "email", "phone", "slack_id", "locale", "timezone"):
        if shown[field] is not None:
            lines.append(f"  {field}: {shown[field]}")
    if shown["attributes"]:
        lines.append(f"  attributes: {json.dumps(shown['attributes'], ensure_ascii=False)}")
    lines.append("Consent:" + ("" if shown["consent"] else " none recorded"))
    for channel, consent in shown["consent"].items():
        said = "granted" if consent["granted"] else "withdrawn"
        details = ", ".join(
            f"{name} {consent[name]}" for name in ("basis", "source", "at") if consent.get(name)
        )
        lines.append(f"  {channel}: {said}" + (f" ({details})" if details else ""))
    lines.append("Tags: " + (", ".join(shown["tags"]) or "none"))
    lines.append("Balances:" + ("" if shown["balances"] else " none"))
    for account, figures in shown["balances"].items():
        lines.append(f"  {account}: {figures['balance']} (earned {figures['earned']})")
    tier = shown.get("tier")
    if tier is not None:
        line = f"Tier: {tier['tier']}"
        if tier["since"]:
            line += f" since {tier['since']}"
        line += f", value {tier['value']}"
        if tier["next_tier"]:
            line += f", {tier['to_next']} more for {tier['next_tier']}"
        if tier["kept_until"]:
            line += f", kept until {tier['kept_until']}"
        lines.append(line)
    if "badges" in shown:
        lines.append("Badges:" + ("" if shown["badges"] else " none"))
        for badge in shown["badges"]:
            held = f"level {badge['level']}" if badge["level"] else "not yet"
            progress = f"{badge['value']}"
            if badge["next_threshold"] is not None:
                progress += f" of {badge['next_threshold']} for the next level"
            lines.append(f"  {badge['badge']}: {held}, progress {progress}")
    history = shown["history"]
    lines.append(f"History (newest first, {len(history)} shown):" if history else "History: none")
    for entry in history:
        memo = f"  {entry['memo']}" if entry["memo"] else ""
        account = "" if entry["account"] == "points" else f" {entry['account']}"
        lines.append(
            f"  {entry['at']}  {entry['delta']:+d}{account}  {entry['reason']}  "
            f"{entry['action'] or ''}{memo}"
        )
    return lines
