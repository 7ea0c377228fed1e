"""The concepts page: advocates, actions, effects, outcomes and the ledger, in one program."""

# --8<-- [start:outcome]
from advokit import Action, Advocate, AwardPoints, Program, Status
from advokit.plugins.points import Points, PointsRule

program = Program(
    name="bakery",
    database_url="sqlite:///bakery.db",
    plugins=[Points(PointsRule("review.posted", points=50))],
)
program.migrate()
program.enroll(Advocate(external_id="c-1", name="Ada", timezone="Europe/Lisbon"))

outcome = program.record(
    Action(kind="review.posted", advocate="c-1", key="review-1", data={"rating": 5})
)
assert outcome.status is Status.APPLIED
assert outcome.effects == (AwardPoints(advocate="c-1", points=50, reason="review.posted"),)
[entry] = program.history("c-1")
assert (entry.delta, entry.reason, entry.action_key) == (50, "review.posted", "review-1")
assert program.verify_ledger() == []  # balances agree with the entries
# --8<-- [end:outcome]
