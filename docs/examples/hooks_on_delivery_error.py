"""advokit_on_delivery_error: observe a message dead-lettered by its channel."""

# --8<-- [start:plugin]
from advokit import hookimpl


class Bounces:
    plugin_name = "bounces"

    def __init__(self):
        self.failed = []

    @hookimpl
    def advokit_on_delivery_error(self, message, error):
        self.failed.append((message.key, message.error))


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, Advocate, Program, SendMessage
    from advokit.plugins.messages import DeliveryFailed, Messages

    class NoSuchMailbox:
        plugin_name = "no-such-mailbox"

        @hookimpl
        def advokit_register_channels(self, register):
            register(self, name="email")

        def address(self, advocate):
            return advocate.email

        def send(self, program, message):
            raise DeliveryFailed("550 no such mailbox")

        @hookimpl
        def advokit_evaluate(self, action):
            if action.kind == "review.posted":
                yield SendMessage(advocate=action.advocate, channel="email", template="thank_you")

    bounces = Bounces()
    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[Messages(secret="a-secret-of-32-characters-at-least"), NoSuchMailbox(), bounces],
    )
    program.migrate()
    program.enroll(Advocate(external_id="ann", email="ann@example.com", consent={"email": True}))
    program.record(Action(kind="review.posted", advocate="ann", key="review-1"))
    assert program.deliver_pending().failed == 1
    [(key, error)] = bounces.failed
    [message] = program.messages("ann")
    assert (key, message.state) == (message.key, "failed")
    assert "550 no such mailbox" in error
