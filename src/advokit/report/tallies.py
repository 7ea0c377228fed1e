"""Counts the report needs that no scorer gives: advocates per tier, rewards issued.

The tiers and rewards plugins answer per advocate or per reward
(``program.tier(advocate)``, ``program.rewards()``); a report over every
advocate needs one ``GROUP BY`` instead, over the tables those plugins export.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.plugins.scoring.economics import UNPAID
from advokit.report.model import Count, RewardLine

if TYPE_CHECKING:
    from advokit.core.program import Program
    from advokit.plugins.scoring.model import Window

__all__ = ["reward_lines", "tier_counts"]


def tier_counts(program: Program) -> tuple[Count, ...] | None:
    """The program's advocates per tier now, from the lowest tier up (every
    configured tier, with 0 where nobody is); None without the tiers plugin.

    An advocate the plugin has not placed yet is in the first tier, as
    ``program.tier(advocate)`` says.
    """
    from advokit.plugins.tiers import Tiers, states_t

    plugin = program.pm.get_plugin("tiers")
    if not isinstance(plugin, Tiers):
        return None
    configured = plugin.tiers

    a, s = q.advocates_t, states_t
    tier = sa.func.coalesce(s.c.tier, configured[0].name).label("tier")
    statement = (
        sa.select(tier, sa.func.count())
        .select_from(a.outerjoin(s, s.c.advocate_id == a.c.id))
        .where(a.c.program == program.name)
        .group_by(tier)
    )
    with database.transaction(program.engine, write=False) as conn:
        counted = {str(name): int(n) for name, n in conn.execute(statement)}
    names = [t.name for t in configured]
    # a tier no longer configured still holds its advocates: shown after the others
    names += sorted(set(counted) - set(names))
    return tuple(Count(name, counted.get(name, 0)) for name in names)


def reward_lines(program: Program, window: Window) -> tuple[RewardLine, ...] | None:
    """The rewards created in the window, per kind and currency, with their
    states now; None without the rewards plugin."""
    if program.pm.get_plugin("rewards") is None:
        return None
    from advokit.plugins.rewards import rewards_t

    w = rewards_t
    statement = (
        sa.select(w.c.kind, w.c.currency, w.c.state, sa.func.count(), sa.func.sum(w.c.amount))
        .where(w.c.program == program.name, *window.during(w.c.created_at))
        .group_by(w.c.kind, w.c.currency, w.c.state)
    )
    with database.transaction(program.engine, write=False) as conn:
        rows = conn.execute(statement).all()
    lines: dict[tuple[str, str | None], dict[str, Any]] = defaultdict(
        lambda: {"issued": 0, "owed": 0, "amount": 0, "states": {}}
    )
    for kind, currency, state, count, amount in rows:
        line = lines[(kind, currency)]
        line["issued"] += int(count)
        line["states"][state] = int(count)
        if state not in UNPAID:
            line["owed"] += int(count)
            line["amount"] += int(amount or 0)
    return tuple(
        RewardLine(kind=kind, currency=currency, **values)
        for (kind, currency), values in sorted(
            lines.items(), key=lambda item: (-item[1]["issued"], item[0][0], item[0][1] or "")
        )
    )
