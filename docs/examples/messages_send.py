"""Messages: a rule sends a message by returning a SendMessage effect."""

# --8<-- [start:rule]
from advokit import SendMessage, hookimpl


class AskForReviews:
    plugin_name = "ask-for-reviews"
    advokit_evaluates = frozenset({"purchase.completed"})

    @hookimpl
    def advokit_evaluate(self, action):
        yield SendMessage(
            advocate=action.advocate,
            channel="email",
            template="review_request",
            context={"review_url": "https://g.page/r/bakery/review"},
        )


# --8<-- [end:rule]

if __name__ == "__main__":
    from advokit import Action, Advocate, Program
    from advokit.plugins.channels import Email
    from advokit.plugins.messages import Messages

    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[
            Messages(secret="from-your-vault-32-characters-long"),
            Email(host="127.0.0.1", port=1025, sender="hello@bakery.example", security="none"),
            AskForReviews(),
        ],
    )
    program.migrate()
    program.enroll(Advocate(external_id="ann", email="ann@example.com", consent={"email": True}))
    order = {"order_id": "1"}
    program.record(Action(kind="purchase.completed", advocate="ann", key="order-1", data=order))
    program.record(Action(kind="purchase.completed", advocate="ann", key="order-1", data=order))
    [queued] = program.messages("ann")  # one message, however often the action is retried
    assert (queued.kind, queued.state) == ("review_request", "queued")
