"""advokit_register_effect_policies: a named policy the developer puts in the chain."""

# --8<-- [start:plugin]
import attrs

from advokit import AwardPoints, Program, hookimpl
from advokit.plugins.points import Cap


def weekend_bonus(ctx, action, effects):
    """5 extra points on every award made on a Saturday or Sunday (UTC)."""
    if ctx.now.weekday() < 5:
        return effects
    return tuple(
        attrs.evolve(e, points=e.points + 5) if isinstance(e, AwardPoints) else e for e in effects
    )


class Bonuses:
    plugin_name = "bonuses"

    @hookimpl
    def advokit_register_effect_policies(self, register):
        register(weekend_bonus, name="weekend_bonus")


# --8<-- [end:plugin]

if __name__ == "__main__":
    from datetime import UTC, datetime

    from advokit import Action, Advocate, ManualClock
    from advokit.plugins.points import Points, PointsRule

    clock = ManualClock(datetime(2026, 6, 5, 12, tzinfo=UTC))  # a Friday
    # --8<-- [start:program]
    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[Bonuses(), Points(PointsRule("review.posted", points=10))],
        policies=["weekend_bonus", Cap(30)],  # the bonus first, then at most 30 a day
        clock=clock,
    )
    # --8<-- [end:program]
    program.migrate()
    program.enroll(Advocate(external_id="ann"))

    def review(key):
        return program.record(Action(kind="review.posted", advocate="ann", key=key)).points

    assert review("r-1") == 10  # a weekday: no bonus
    clock.set(datetime(2026, 6, 6, 12, tzinfo=UTC))  # Saturday
    assert review("r-2") == 15
    assert review("r-3") == 15
    assert review("r-4") == 0  # the cap runs after the bonus: 30 a day
    assert program.balance("ann") == 40
