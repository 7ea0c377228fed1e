"""advokit_register_scorers: a metric of one's own, computed in SQL."""

# --8<-- [start:plugin]
import sqlalchemy as sa

from advokit import hookimpl
from advokit.core.store.queries import actions_t
from advokit.plugins.scoring import Score, Scorer


class ReviewsPerPurchase(Scorer):
    """Reviews posted per purchase, in the window and segment asked."""

    name = "reviews_per_purchase"
    description = "reviews posted per purchase"

    def compute(self, scope):
        t = actions_t
        reviews, purchases = scope.rows(
            sa.select(
                sa.func.sum(sa.case((t.c.kind == "review.posted", 1), else_=0)),
                sa.func.sum(sa.case((t.c.kind == "purchase.completed", 1), else_=0)),
            ).where(*scope.actions(["review.posted", "purchase.completed"]))
        )[0]
        purchases = purchases or 0
        return Score(
            name=self.name,
            value=(reviews or 0) / purchases if purchases else None,
            n=purchases,
            unit="ratio",
            inputs=scope.inputs(),
        )


class Reviews:
    plugin_name = "reviews"

    @hookimpl
    def advokit_register_scorers(self, register):
        register(ReviewsPerPurchase(), name=ReviewsPerPurchase.name)


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, Advocate, Program

    program = Program(name="bakery", database_url="sqlite:///bakery.db", plugins=[Reviews()])
    program.migrate()
    program.enroll(Advocate(external_id="ann"))
    assert program.score("reviews_per_purchase").value is None  # no purchase yet
    for order in "1234":
        program.record(
            Action(
                kind="purchase.completed",
                advocate="ann",
                key=f"order-{order}",
                data={"order_id": order},
            )
        )
    program.record(Action(kind="review.posted", advocate="ann", key="review-1"))
    score = program.score("reviews_per_purchase")
    assert (score.value, score.n) == (0.25, 4)
