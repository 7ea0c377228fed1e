"""Holdout groups: a random share of eligible advocates the program leaves alone,
so that what the program adds can be measured against them.

An advocate's group is decided by a keyed hash, not by a random draw kept
somewhere: ``blake2b(program, holdout name, salt, external id)`` mapped to
``[0, 1)`` puts them in ``holdout`` when it is below ``share``. The same
advocate lands in the same group on every machine, every time, with no state
to read; :func:`assign_holdout` records the groups (``scoring_holdouts``) so
that a later change of ``share`` never moves anyone already assigned::

    fall = Holdout("fall-2026", share=0.1, eligible=advocate_kind("customer"))
    Scoring(economics=Economics(holdouts=(fall,)))
    program.assign_holdout("fall-2026")     # HoldoutCounts(assigned=2000, held_out=201, ...)
    Journey("invite", trigger="purchase.completed", steps=[...],
            when=not_held_out(fall, "shop"))
    program.score("lift", holdout="fall-2026")

Also here: the statistics that compare two groups (Welch's interval for a
difference of means, Newcombe's for a difference of proportions), which the
lift, ROI and lifetime-value scorers share.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from advokit.core.errors import ConfigurationError, InvalidValue, UnknownName, one_of
from advokit.core.store import database
from advokit.core.store import queries as q
from advokit.core.store.driver import dialect_insert
from advokit.plugins.scoring.model import Z95, Interval, wilson
from advokit.plugins.scoring.segments import Condition
from advokit.plugins.scoring.tables import holdouts_t

if TYPE_CHECKING:
    from advokit.core.program import Program
    from advokit.plugins.scoring.settings import ScoringSettings

__all__ = [
    "GROUPS",
    "GroupStats",
    "Holdout",
    "HoldoutCounts",
    "assign_holdout",
    "find_holdout",
    "holdout_group",
    "mean_difference",
    "not_held_out",
    "proportion_difference",
    "t_quantile",
]

#: the two groups of a holdout experiment
GROUPS = ("holdout", "treatment")

_NAME_RE = r"[a-z0-9][a-z0-9_.-]{0,62}"
_CHUNK = 1000


def _name(instance: Any, attribute: Any, value: Any) -> None:
    import re

    if not isinstance(value, str) or not re.fullmatch(_NAME_RE, value):
        raise ConfigurationError(
            "Holdout.name", value, "1 to 63 lower-case letters, digits, '.', '_', '-'"
        )


def _share(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise ConfigurationError("Holdout.share", value, "a number between 0 and 1 (exclusive)")


def _eligible(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, Condition):
        raise ConfigurationError(
            "Holdout.eligible", value, "a Condition (advocate_kind(...), tagged(...)...) or None"
        )


def _salt(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str):
        raise ConfigurationError("Holdout.salt", value, "a string")


def _program_name(program: Any) -> str:
    name = program if isinstance(program, str) else getattr(program, "name", None)
    if not isinstance(name, str) or not name:
        raise InvalidValue("program", program, "a program's name or a Program")
    return name


@attrs.frozen
class Holdout:
    """A holdout experiment: ``share`` of the ``eligible`` advocates are not invited.

    Args:
        name: the experiment's name (``program.assign_holdout(name)``,
            ``score("lift", holdout=name)``).
        share: the part of eligible advocates held out, strictly between 0 and 1.
        eligible: which advocates take part (a segment condition); None: all.
        salt: changes every assignment: a new salt is a new random split.
    """

    name: str = attrs.field(validator=_name)
    share: float = attrs.field(default=0.1, validator=_share)
    eligible: Condition | None = attrs.field(default=None, validator=_eligible)
    salt: str = attrs.field(default="", validator=_salt)

    def position(self, advocate: str, program: Any) -> float:
        """Where ``advocate`` falls in ``[0, 1)``: uniform, stable, reproducible."""
        parts = (_program_name(program), self.name, self.salt, advocate)
        digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def group_of(self, advocate: str, program: Any) -> str:
        """``holdout`` or ``treatment``: the group the hash puts ``advocate`` in."""
        return "holdout" if self.position(advocate, program) < self.share else "treatment"

    def excludes(self, advocate: str, program: Any) -> bool:
        """Whether ``advocate`` (an external id) is held out in ``program`` (a
        name or a Program). Pure: no database; it does not check ``eligible``
        (a SQL condition) and uses the current ``share``, so it agrees with the
        recorded assignment as long as ``share`` and ``salt`` stay as assigned."""
        return self.group_of(advocate, program) == "holdout"


def not_held_out(holdout: Holdout, program: Any) -> Callable[[Any, Any], bool]:
    """A ``when(advocate, action)`` for ``Journey(when=...)``: true unless the
    advocate is held out. ``program`` is the program's name (or the Program):
    journeys are declared before the program exists, and the hash needs it."""
    if not isinstance(holdout, Holdout):
        raise ConfigurationError("not_held_out.holdout", holdout, "a Holdout")
    name = _program_name(program)

    def when(advocate: Any, action: Any = None) -> bool:
        external_id = advocate if isinstance(advocate, str) else advocate.external_id
        return not holdout.excludes(external_id, name)

    return when


def holdout_group(name: str, group: str) -> Condition:
    """Advocates recorded in ``group`` (``holdout`` or ``treatment``) of the
    holdout experiment ``name`` (by :func:`assign_holdout`)."""
    if group not in GROUPS:
        raise InvalidValue("holdout_group.group", group, "holdout or treatment")
    if not isinstance(name, str) or not name:
        raise InvalidValue("holdout_group.name", name, "a holdout's name")
    h, a = holdouts_t, q.advocates_t

    def where(s: Any) -> Any:
        assigned = sa.select(h.c.advocate_id).where(
            h.c.program == s.name, h.c.experiment == name, h.c.group == group
        )
        return a.c.id.in_(assigned)

    return Condition(where, f"holdout_group({name!r}, {group!r})")


def find_holdout(settings: ScoringSettings, name: Any, field: str) -> Holdout:
    """The configured holdout called ``name``, or an error naming ``field``."""
    holdouts = {h.name: h for h in getattr(settings.economics, "holdouts", ())}
    if not holdouts:
        raise InvalidValue(field, name, "a holdout of Economics.holdouts (none is configured)")
    if not isinstance(name, str):
        raise InvalidValue(field, name, f"the name of a holdout: {one_of(holdouts)}")
    if name not in holdouts:
        raise UnknownName(field, name, holdouts)
    return holdouts[name]


@attrs.frozen
class HoldoutCounts:
    """What :func:`assign_holdout` did: ``assigned`` advocates now, and the
    experiment's groups in all (``held_out`` + ``treated``)."""

    name: str
    assigned: int
    held_out: int
    treated: int


def assign_holdout(program: Program, name: str, *, settings: ScoringSettings) -> HoldoutCounts:
    """``program.assign_holdout(name)``: record the group of every eligible
    advocate not assigned yet. An assignment never changes: advocates already
    recorded keep their group, whatever ``share`` says now. Safe to run again
    (each enrolment wave, say) and concurrently (the primary key decides)."""
    from advokit.plugins.scoring.scope import Scope

    holdout = find_holdout(settings, name, "assign_holdout.name")
    scope = Scope.of(program, settings)
    now = scope.now
    a, h = q.advocates_t, holdouts_t
    assigned = sa.select(h.c.advocate_id).where(
        h.c.program == program.name, h.c.experiment == holdout.name
    )
    query = sa.select(a.c.id, a.c.external_id).where(
        a.c.program == program.name, a.c.id.not_in(assigned)
    )
    if holdout.eligible is not None:
        query = query.where(holdout.eligible.where(scope))

    def run() -> int:
        added = 0
        with database.transaction(program.engine) as conn:
            rows = conn.execute(query.order_by(a.c.id)).all()
            for start in range(0, len(rows), _CHUNK):
                values = [
                    {
                        "advocate_id": row_id,
                        "experiment": holdout.name,
                        "program": program.name,
                        "group": holdout.group_of(external_id, program.name),
                        "assigned_at": now,
                    }
                    for row_id, external_id in rows[start : start + _CHUNK]
                ]
                insert = dialect_insert(conn, h).values(values).on_conflict_do_nothing()
                # the rows inserted, not those another process assigned first
                added += len(conn.execute(insert.returning(h.c.advocate_id)).all())
        return added

    added = database.retrying(run)
    if added and program.engine.dialect.name == "postgresql":
        # a bulk assignment changes the table's size at once: without fresh
        # statistics the planner takes the groups for a few rows and nests loops
        with database.transaction(program.engine) as conn:
            conn.exec_driver_sql(f"ANALYZE {h.name}")
    counts = _group_counts(program, holdout.name)
    return HoldoutCounts(holdout.name, added, counts["holdout"], counts["treatment"])


def _group_counts(program: Program, name: str) -> dict[str, int]:
    h = holdouts_t
    with database.transaction(program.engine, write=False) as conn:
        rows = conn.execute(
            sa.select(h.c.group, sa.func.count())
            .where(h.c.program == program.name, h.c.experiment == name)
            .group_by(h.c.group)
        ).all()
    return {"holdout": 0, "treatment": 0, **{str(group): int(n) for group, n in rows}}


# --------------------------------------------------------------------------- comparing groups


@attrs.frozen
class GroupStats:
    """One group's size, mean and sample standard deviation (None under 2)."""

    n: int
    mean: float | None
    sd: float | None

    @classmethod
    def of(cls, n: int, total: float, squares: float) -> GroupStats:
        """From ``n``, the sum of the values and the sum of squared deviations
        from their mean (what the SQL aggregates return)."""
        if n == 0:
            return cls(0, None, None)
        sd = math.sqrt(max(squares, 0.0) / (n - 1)) if n >= 2 else None
        return cls(n, total / n, sd)

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "sd": self.sd}


def group_stats(rows: Any, names: tuple[str, ...]) -> dict[str, GroupStats]:
    """``{group: GroupStats}`` of rows ``(group, n, sum, squared deviations)``;
    groups without a row are empty."""
    found = {str(g): GroupStats.of(int(n), float(s or 0), float(ss or 0)) for g, n, s, ss in rows}
    return {name: found.get(name, GroupStats(0, None, None)) for name in names}


def deviations(units: Any) -> sa.Select[Any]:
    """Per-group ``(grp, n, sum of y, sum of (y - group mean)^2)`` of a
    subquery of units ``(grp, y)``: two passes in SQL, numerically stable."""
    mean = sa.func.avg(units.c.y).over(partition_by=units.c.grp)
    centred = sa.select(units.c.grp, units.c.y, mean.label("m")).subquery()
    d = centred.c.y - centred.c.m
    return sa.select(
        centred.c.grp, sa.func.count(), sa.func.sum(centred.c.y), sa.func.sum(d * d)
    ).group_by(centred.c.grp)


def t_quantile(df: float) -> float:
    """The two-sided 95% Student t critical value for ``df`` degrees of freedom."""
    alpha = 0.05
    if df >= 200:  # Cornish-Fisher expansion: exact to 1e-9 here
        z = Z95
        g = (
            (z**3 + z) / 4,
            (5 * z**5 + 16 * z**3 + 3 * z) / 96,
            (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        )
        return z + g[0] / df + g[1] / df**2 + g[2] / df**3
    low, high = 0.0, 1.0
    while _two_sided_p(high, df) > alpha:
        high *= 2
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if _two_sided_p(mid, df) > alpha else (low, mid)
    return (low + high) / 2


def _two_sided_p(t: float, df: float) -> float:
    """P(|T| > t) = I_{df / (df + t^2)}(df / 2, 1 / 2)."""
    return _incomplete_beta(df / 2, 0.5, df / (df + t * t))


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b) (continued fraction)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1 - front * _beta_fraction(b, a, 1 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return f


def mean_difference(a: GroupStats, b: GroupStats) -> Interval | None:
    """Welch's 95% interval of ``a.mean - b.mean`` (unequal variances; the
    Welch-Satterthwaite degrees of freedom). None under two values a group."""
    if a.sd is None or b.sd is None or a.mean is None or b.mean is None:
        return None
    va, vb = a.sd**2 / a.n, b.sd**2 / b.n
    diff = a.mean - b.mean
    if va + vb == 0:
        return Interval(diff, diff)
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    half = t_quantile(df) * math.sqrt(va + vb)
    return Interval(diff - half, diff + half)


def proportion_difference(a: GroupStats, b: GroupStats, scale: float = 100.0) -> Interval | None:
    """Newcombe's 95% interval (from Wilson intervals) of the difference of two
    proportions ``a.mean - b.mean``, times ``scale``: honest for small groups
    and shares near 0 or 1, where the normal approximation is not."""
    if not a.n or not b.n or a.mean is None or b.mean is None:
        return None
    wa, wb = wilson(round(a.mean * a.n), a.n, 1.0), wilson(round(b.mean * b.n), b.n, 1.0)
    assert wa is not None
    assert wb is not None
    diff = a.mean - b.mean
    low = diff - math.sqrt((a.mean - wa.low) ** 2 + (wb.high - b.mean) ** 2)
    high = diff + math.sqrt((wa.high - a.mean) ** 2 + (b.mean - wb.low) ** 2)
    return Interval(low * scale, high * scale)


def stats_json(groups: Mapping[str, GroupStats]) -> dict[str, Any]:
    return {name: stats.to_json() for name, stats in groups.items()}
