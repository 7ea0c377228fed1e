"""advokit_register_action_kinds: a kind of one's own, and what recording checks."""

# --8<-- [start:plugin]
from advokit import ActionKind, hookimpl


class Testimonials:
    plugin_name = "testimonials"

    @hookimpl
    def advokit_register_action_kinds(self, register):
        register(
            ActionKind(
                name="testimonial.given",
                required={"text": str},
                optional={"rating": int},
                description="The advocate wrote a testimonial.",
            )
        )


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, Advocate, InvalidValue, MissingData, Program, UnknownActionKind

    program = Program(name="bakery", database_url="sqlite:///bakery.db", plugins=[Testimonials()])
    program.migrate()
    program.enroll(Advocate(external_id="ann"))
    assert "testimonial.given" in program.registries.action_kinds

    given = program.record(
        Action(kind="testimonial.given", advocate="ann", key="t-1", data={"text": "Lovely"})
    )
    assert given.status == "applied"
    # refused before anything is written: an unknown kind, a missing field, a wrong type
    for action, error in [
        (Action(kind="testimonial.sung", advocate="ann", key="t-2"), UnknownActionKind),
        (Action(kind="testimonial.given", advocate="ann", key="t-3"), MissingData),
        (
            Action(
                kind="testimonial.given",
                advocate="ann",
                key="t-4",
                data={"text": "Nice", "rating": "five"},
            ),
            InvalidValue,
        ),
    ]:
        try:
            program.record(action)
        except error as refused:
            print(f"{action.key}: {refused}")
        else:
            raise AssertionError(f"{action.key} was recorded")
