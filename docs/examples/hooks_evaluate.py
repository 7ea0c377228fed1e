"""advokit_evaluate: effects for recorded actions and for derived ones (points.changed)."""

# --8<-- [start:plugin]
from advokit import AwardPoints, Tag, hookimpl


class Testimonials:
    plugin_name = "testimonials"
    advokit_evaluates = frozenset({"testimonial.given", "points.changed"})

    @hookimpl
    def advokit_evaluate(self, ctx, action):
        if action.kind == "testimonial.given":
            return [AwardPoints(advocate=action.advocate, points=25, reason=action.kind)]
        if action.kind == "points.changed" and action.data["balance"] >= 1000:
            return [Tag(advocate=action.advocate, tag="vip")]
        return None


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, ActionKind, Advocate, Program
    from advokit.plugins.points import adjustment

    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[Testimonials()],
        action_kinds=[ActionKind(name="testimonial.given", required={"text": str})],
    )
    program.migrate()
    program.enroll(Advocate(external_id="ann"))
    given = program.record(
        Action(kind="testimonial.given", advocate="ann", key="t-1", data={"text": "Yum"})
    )
    assert given.points == 25
    assert "vip" not in program.tags("ann")
    # a manual adjustment changes the balance: the derived points.changed tags her
    program.record(adjustment("ann", 975, reason="welcome back", key="adjust-1"))
    assert program.balance("ann") == 1000
    assert "vip" in program.tags("ann")
