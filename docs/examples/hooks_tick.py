"""advokit_tick: actions that time makes due, recorded once per event and period."""

# --8<-- [start:plugin]
from datetime import timedelta

import sqlalchemy as sa

from advokit import Action, ActionKind, hookimpl
from advokit.core.store.queries import actions_t, advocates_t


class Dormancy:
    """Records advocate.dormant, once a month, for whoever did nothing for 90 days."""

    plugin_name = "dormancy"

    @hookimpl
    def advokit_register_action_kinds(self, register):
        register(ActionKind(name="advocate.dormant", derived=True))

    @hookimpl
    def advokit_tick(self, program, now):
        last = sa.func.max(actions_t.c.occurred_at)
        dormant = (  # one query for every advocate of the program
            sa.select(advocates_t.c.external_id)
            .join(actions_t, actions_t.c.advocate_id == advocates_t.c.id)
            .where(advocates_t.c.program == program.name, actions_t.c.kind != "advocate.dormant")
            .group_by(advocates_t.c.external_id)
            .having(last < now - timedelta(days=90))
        )
        with program.engine.connect() as connection:
            for advocate in connection.execute(dormant).scalars():
                yield Action(
                    kind="advocate.dormant",
                    advocate=advocate,
                    key=f"dormant:{advocate}:{now:%Y-%m}",  # the event and its period
                    occurred_at=now,
                )


# --8<-- [end:plugin]

if __name__ == "__main__":
    from datetime import UTC, datetime

    from advokit import Advocate, ManualClock, Program
    from advokit.plugins.points import Points, PointsRule

    clock = ManualClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[Dormancy(), Points(PointsRule("advocate.dormant", 50))],  # a nudge
        clock=clock,
    )
    program.migrate()
    for who in ("ann", "bob"):
        program.enroll(Advocate(external_id=who))
    program.record(Action(kind="review.posted", advocate="ann", key="review-ann"))
    clock.advance(days=80)
    program.record(Action(kind="review.posted", advocate="bob", key="review-bob"))
    clock.advance(days=20)

    first = program.tick()
    again = program.tick()  # the same keys: replayed, nothing applied twice
    assert (first.applied, again.applied, again.replayed) == (1, 0, 1)
    assert (program.balance("ann"), program.balance("bob")) == (50, 0)
