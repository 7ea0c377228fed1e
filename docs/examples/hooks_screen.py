"""advokit_screen: accept, hold for a person, or reject; the worst verdict wins."""

# --8<-- [start:plugin]
from advokit import Verdict, hookimpl


class NoSelfReferral:
    plugin_name = "no-self-referral"
    advokit_screens = frozenset({"referral.converted"})

    @hookimpl
    def advokit_screen(self, ctx, action):
        if action.data["referred"] == action.advocate:
            return Verdict.reject("self-referral")
        if "under-investigation" in ctx.view.tags(action.advocate):
            return Verdict.hold("the referrer is under investigation")
        return Verdict.accept()


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, ActionKind, Advocate, Program, Tag
    from advokit.plugins.points import Points, PointsRule

    class Investigations:
        """Tags an advocate when a fraud report is recorded."""

        plugin_name = "investigations"
        advokit_evaluates = frozenset({"fraud.reported"})

        @hookimpl
        def advokit_evaluate(self, action):
            yield Tag(advocate=action.advocate, tag="under-investigation")

    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[NoSelfReferral(), Investigations(), Points(PointsRule("referral.converted", 100))],
        action_kinds=[
            ActionKind(name="referral.converted", required={"referred": str}),
            ActionKind(name="fraud.reported"),
        ],
    )
    program.migrate()
    for who in ("ann", "bob", "cy"):
        program.enroll(Advocate(external_id=who))

    def referral(key, referrer, referred):
        action = Action(
            kind="referral.converted", advocate=referrer, key=key, data={"referred": referred}
        )
        return program.record(action)

    assert referral("r-1", "ann", "bob").status == "applied"
    rejected = referral("r-2", "ann", "ann")
    assert (rejected.status, rejected.reasons) == ("rejected", ("self-referral",))
    program.record(Action(kind="fraud.reported", advocate="bob", key="report-1"))
    assert referral("r-3", "bob", "cy").status == "held"
    assert program.balance("bob") == 0  # nothing applied until a person decides
    program.review("r-3", approve=True, reviewer="maria")
    assert program.balance("bob") == 100
