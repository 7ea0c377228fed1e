"""advokit_register_fulfillers: a fulfiller paid once per reward, after commit."""

# --8<-- [start:plugin]
from advokit import hookimpl
from advokit.plugins.rewards import FulfilmentFailed


class GiftCards:
    plugin_name = "giftcards"

    @hookimpl
    def advokit_register_fulfillers(self, register):
        register(self, name="gift_card")

    def fulfil(self, program, reward):
        # a real fulfiller calls the provider here, passing reward.key as its
        # idempotency key; it raises RetryLater on a 5xx, FulfilmentFailed on a 4xx
        if reward.reward.amount > 10_000:
            raise FulfilmentFailed("the provider sells cards of 100.00 at most")
        return {"order": f"order-for-{reward.key}"}


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, Advocate, IssueReward, Program, Reward
    from advokit.plugins.rewards import Rewards

    class TenPercentBack:
        plugin_name = "ten-percent-back"
        advokit_evaluates = frozenset({"purchase.completed"})

        @hookimpl
        def advokit_evaluate(self, action):
            cents = action.data["total_cents"] // 10
            yield IssueReward(
                advocate=action.advocate,
                reward=Reward(kind="gift_card", amount=cents, currency="EUR"),
            )

    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[Rewards(), GiftCards(), TenPercentBack()],
    )
    program.migrate()
    program.enroll(Advocate(external_id="ann"))
    for order, cents in [("1", 50_000), ("2", 200_000)]:  # 50.00 and 200.00 back
        program.record(
            Action(
                kind="purchase.completed",
                advocate="ann",
                key=f"order-{order}",
                data={"order_id": order, "total_cents": cents},
            )
        )

    report = program.fulfil_pending()  # after commit: what `advokit worker` does
    assert (report.fulfilled, report.failed) == (1, 1), report
    states = {r.reward.amount: (r.state, r.result) for r in program.rewards("ann")}
    fulfilled = next(r for r in program.rewards("ann") if r.state == "fulfilled")
    assert fulfilled.result == {"order": f"order-for-{fulfilled.key}"}
    assert states[20_000][0] == "failed"  # the dead letter, for a person to look at
    assert program.fulfil_pending().fulfilled == 0  # nothing is paid twice
