"""advokit_on_fulfilment_error: observe a reward dead-lettered by its fulfiller."""

# --8<-- [start:plugin]
from advokit import hookimpl


class DeadLetters:
    plugin_name = "dead-letters"

    def __init__(self):
        self.failed = []

    @hookimpl
    def advokit_on_fulfilment_error(self, reward, error):
        self.failed.append((reward.key, reward.error))


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, Advocate, IssueReward, Program, Reward
    from advokit.plugins.rewards import FulfilmentFailed, Rewards

    class Refusing:
        plugin_name = "refusing"

        @hookimpl
        def advokit_register_fulfillers(self, register):
            register(self, name="swag")

        def fulfil(self, program, reward):
            raise FulfilmentFailed("out of mugs for good")

        @hookimpl
        def advokit_evaluate(self, action):
            if action.kind == "review.posted":
                yield IssueReward(advocate=action.advocate, reward=Reward(kind="swag"))

    letters = DeadLetters()
    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[Rewards(), Refusing(), letters],
    )
    program.migrate()
    program.enroll(Advocate(external_id="ann"))
    program.record(Action(kind="review.posted", advocate="ann", key="review-1"))
    assert program.fulfil_pending().failed == 1
    [(key, error)] = letters.failed
    [reward] = program.rewards("ann")
    assert (key, reward.state) == (reward.key, "failed")
    assert "out of mugs for good" in error
