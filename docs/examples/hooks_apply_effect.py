"""advokit_apply_effect: a plugin's own effect, written in the recording transaction."""

# --8<-- [start:plugin]
import attrs
import sqlalchemy as sa

from advokit import Action, Effect, hookimpl

shoutouts = sa.Table(
    "shoutouts_published",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("advocate_id", sa.BigInteger, nullable=False),
    sa.Column("text", sa.String(500), nullable=False),
)


@attrs.frozen(kw_only=True)
class PublishShoutout(Effect):
    advocate: str
    text: str


class Shoutouts:
    plugin_name = "shoutouts"
    advokit_applies = frozenset({PublishShoutout})

    @hookimpl
    def advokit_apply_effect(self, tx, effect):
        advocate_id = tx.view.advocate_id(effect.advocate)
        tx.insert(shoutouts, {"advocate_id": advocate_id, "text": effect.text})
        tx.emit(
            Action(
                kind="shoutout.published",  # a kind registered with derived=True
                advocate=effect.advocate,
                key=f"{tx.root_key}>shoutout.published",
            )
        )
        return True


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import ActionKind, Advocate, Program
    from advokit.plugins.points import Points, PointsRule

    class ThankYouNotes:
        """Publishes a shout-out for every review; the derived action earns 5 points."""

        plugin_name = "thank-you-notes"
        advokit_evaluates = frozenset({"review.posted"})

        @hookimpl
        def advokit_evaluate(self, action):
            yield PublishShoutout(advocate=action.advocate, text="Thanks for the review!")

    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[Shoutouts(), ThankYouNotes(), Points(PointsRule("shoutout.published", 5))],
        action_kinds=[ActionKind(name="shoutout.published", derived=True)],
    )
    program.migrate()
    shoutouts.create(program.engine)  # a real plugin ships a migration instead
    program.enroll(Advocate(external_id="ann"))
    program.record(Action(kind="review.posted", advocate="ann", key="review-1"))
    program.record(Action(kind="review.posted", advocate="ann", key="review-1"))  # a retry
    with program.engine.connect() as connection:
        texts = connection.execute(sa.select(shoutouts.c.text)).scalars().all()
    assert texts == ["Thanks for the review!"]
    assert program.balance("ann") == 5
