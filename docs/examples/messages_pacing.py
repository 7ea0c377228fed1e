"""Messages: quiet hours in each advocate's time zone, and frequency caps."""

# --8<-- [start:messages]
from datetime import timedelta

from advokit.plugins.messages import Cap, Messages, QuietHours

messages = Messages(
    secret="from-your-vault-32-characters-long",
    quiet_hours=QuietHours(start="21:00", end="08:00"),  # in each advocate's time zone
    caps=[
        Cap(channel="email", limit=3, per=timedelta(days=7)),
        Cap(channel="sms", limit=2, per=timedelta(days=7)),
    ],
)
# --8<-- [end:messages]

if __name__ == "__main__":
    from datetime import UTC, datetime

    from advokit import Action, Advocate, ManualClock, Program, SendMessage, hookimpl

    class Inbox:
        """An email channel that keeps what it sends."""

        def __init__(self):
            self.sent = []

        @hookimpl
        def advokit_register_channels(self, register):
            register(self, name="email")

        def address(self, advocate):
            return advocate.email

        def send(self, program, message):
            self.sent.append(message.key)

        @hookimpl
        def advokit_evaluate(self, action):
            if action.kind == "review.posted":
                yield SendMessage(advocate=action.advocate, channel="email", template="thank_you")

    inbox = Inbox()
    clock = ManualClock(datetime(2026, 6, 1, 21, 30, tzinfo=UTC))  # 23:30 in Paris
    program = Program(
        name="bakery", database_url="sqlite:///bakery.db", plugins=[messages, inbox], clock=clock
    )
    program.migrate()
    paris = Advocate(
        external_id="ann", email="ann@example.com", timezone="Europe/Paris", consent={"email": True}
    )
    program.enroll(paris)
    for n in range(4):
        program.record(Action(kind="review.posted", advocate="ann", key=f"review-{n}"))
    program.deliver_pending()
    assert inbox.sent == []  # quiet hours: held until 08:00 in Paris
    clock.set(datetime(2026, 6, 2, 6, 5, tzinfo=UTC))  # 08:05 in Paris
    program.deliver_pending()
    assert len(inbox.sent) == 3  # the cap: three emails a week, the fourth waits
