"""advokit_on_alert: alerts for the team, such as a coupon pool running low."""

# --8<-- [start:plugin]
from advokit import hookimpl


class TeamAlerts:
    plugin_name = "team-alerts"

    def __init__(self):
        self.inbox = []

    @hookimpl
    def advokit_on_alert(self, alert):
        if alert.topic.startswith("rewards."):
            self.inbox.append(alert.message)  # or post it to the team's Slack


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, Advocate, IssueReward, Program, Reward
    from advokit.plugins.rewards import CouponPool, Rewards

    class CouponPerReview:
        plugin_name = "coupon-per-review"

        @hookimpl
        def advokit_evaluate(self, action):
            if action.kind == "review.posted":
                yield IssueReward(advocate=action.advocate, reward=Reward(kind="coupon"))

    team = TeamAlerts()
    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[
            Rewards(),
            CouponPool("welcome", kinds=["coupon"], low_at=1),
            CouponPerReview(),
            team,
        ],
    )
    program.migrate()
    program.load_coupons("welcome", ["CROISSANT-1", "CROISSANT-2"])
    program.enroll(Advocate(external_id="ann"))
    for n in (1, 2):
        program.record(Action(kind="review.posted", advocate="ann", key=f"review-{n}"))
    program.fulfil_pending()
    assert len(team.inbox) == 2, team.inbox  # low at one code left, then empty
    print(*team.inbox, sep="\n")
