"""The class form of a plugin: an instance with settings, registered under its plugin_name."""

# --8<-- [start:class]
from advokit import ActionKind, AwardPoints, Program, hookimpl


class Shoutouts:
    plugin_name = "shoutouts"
    advokit_evaluates = frozenset({"shoutout.given"})

    def __init__(self, points=20):
        self.points = points

    @hookimpl
    def advokit_register_action_kinds(self, register):
        register(ActionKind(name="shoutout.given", required={"text": str}))

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        return [AwardPoints(advocate=action.advocate, points=self.points, reason=action.kind)]


program = Program(name="bakery", plugins=[Shoutouts(points=50)])
# --8<-- [end:class]

if __name__ == "__main__":
    from advokit import Action, Advocate

    program.migrate()
    assert "shoutouts" in [info.name for info in program.plugin_info()]
    program.enroll(Advocate(external_id="c-1"))
    program.record(
        Action(kind="shoutout.given", advocate="c-1", key="s-1", data={"text": "Thank you!"})
    )
    assert program.balance("c-1") == 50
