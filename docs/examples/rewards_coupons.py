"""Rewards: a pool of coupon codes, loaded from a CSV file, each handed out once."""

if __name__ == "__main__":
    from pathlib import Path

    from advokit import Action, Advocate, IssueReward, Program, Reward, hookimpl
    from advokit.plugins.rewards import Rewards

    Path("welcome-codes.csv").write_text("code\nWELCOME-A1\nWELCOME-B2\nWELCOME-C3\n")

    class WelcomeCoupon:
        @hookimpl
        def advokit_evaluate(self, action):
            if action.kind == "review.posted":
                yield IssueReward(advocate=action.advocate, reward=Reward(kind="coupon"))

    # --8<-- [start:pool]
    from advokit.plugins.rewards import CouponPool

    plugins = [Rewards(), CouponPool("welcome", kinds=["coupon"], low_at=50)]
    # --8<-- [end:pool]
    program = Program(
        name="bakery", database_url="sqlite:///bakery.db", plugins=[*plugins, WelcomeCoupon()]
    )
    program.migrate()
    # --8<-- [start:load]
    program.load_coupons("welcome", "welcome-codes.csv")  # or a list of codes
    program.coupons_left("welcome")
    # --8<-- [end:load]
    assert program.coupons_left("welcome") == 3
    assert program.load_coupons("welcome", "welcome-codes.csv").loaded == 0  # each code once
    program.enroll(Advocate(external_id="ana"))
    program.record(Action(kind="review.posted", advocate="ana", key="review-1"))
    program.fulfil_pending()
    [reward] = program.rewards("ana")
    assert reward.result == {"pool": "welcome", "code": "WELCOME-A1"}
    assert program.coupons_left("welcome") == 2
