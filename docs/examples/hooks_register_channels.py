"""advokit_register_channels: a channel, and a message delivered through it after commit."""

# --8<-- [start:plugin]
from advokit import hookimpl


class PigeonPost:
    """A channel: reaches advocates who gave a loft, sends a rendered message."""

    def address(self, advocate):
        return advocate.attributes.get("loft")

    def send(self, program, message):
        return {"pigeon": f"sent to {message.advocate.attributes['loft']}"}


class Pigeons:
    plugin_name = "pigeons"

    @hookimpl
    def advokit_register_channels(self, register):
        register(PigeonPost(), name="carrier-pigeon")


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, Advocate, Program, SendMessage
    from advokit.plugins.messages import Messages

    class ThankReviewers:
        plugin_name = "thank-reviewers"
        advokit_evaluates = frozenset({"review.posted"})

        @hookimpl
        def advokit_evaluate(self, action):
            yield SendMessage(
                advocate=action.advocate, channel="carrier-pigeon", template="thank_you"
            )

    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[
            Messages(secret="a-secret-of-32-characters-at-least"),
            Pigeons(),
            ThankReviewers(),
        ],
    )
    program.migrate()
    assert isinstance(program.registries.channels["carrier-pigeon"], PigeonPost)
    for who, loft in [("ann", "the old mill"), ("bob", None)]:
        program.enroll(
            Advocate(
                external_id=who,
                name=who.title(),
                attributes={"loft": loft} if loft else {},
                consent={"carrier-pigeon": True},
            )
        )
        program.record(Action(kind="review.posted", advocate=who, key=f"review-{who}"))

    report = program.deliver_pending()  # after commit: what `advokit worker` does
    assert (report.sent, report.suppressed) == (1, 1), report  # bob has no loft
    [ann] = program.messages("ann")
    assert ann.state == "sent"
    assert ann.result == {"pigeon": "sent to the old mill"}
