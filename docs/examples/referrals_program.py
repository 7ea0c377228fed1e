"""Referrals: codes and links, two-sided rewards once the refund window passed, fraud screening."""

# --8<-- [start:program]
from datetime import timedelta

from advokit import Program
from advokit.plugins.fraud import Fraud
from advokit.plugins.referrals import Referrals

program = Program(
    name="bakery",
    plugins=[
        Referrals(
            link="https://bakery.example/r/{code}",
            referrer_points=150,  # a free coffee
            friend_points=120,  # a free pastry
            minimum_cents=500,  # the friend's first purchase of 5 euros or more
            refund_window=timedelta(days=14),  # rewards wait a day longer
            milestones={3: 500},  # a cake at the third successful referral
        ),
        Fraud(review_at=50, reject_at=100),
    ],
    review_deadline=timedelta(days=3),  # held signups nobody decided on are denied
)
# --8<-- [end:program]

if __name__ == "__main__":
    from advokit import Action, Advocate

    program.migrate()
    program.enroll(Advocate(external_id="ana", email="ana@example.com"))
    code = program.referral_code("ana")
    assert code.link == f"https://bakery.example/r/{code.code}"

    program.enroll(Advocate(external_id="ben", email="ben@example.org"))
    signup = Action(
        kind="referral.signed_up", advocate="ben", key="signup-ben", data={"code": code.code}
    )
    assert program.record(signup).status == "applied"
    order = {"order_id": "b-1", "total_cents": 800}
    program.record(Action(kind="purchase.completed", advocate="ben", key="b-1", data=order))
    assert program.balance("ana") == 0  # not before the refund window has passed
    program.tick(program.clock() + timedelta(days=15))
    assert (program.balance("ana"), program.balance("ben")) == (150, 120)
    assert program.referral("ben").state == "rewarded"
