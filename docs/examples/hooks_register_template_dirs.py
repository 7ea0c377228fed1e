"""advokit_register_template_dirs: message templates a plugin ships."""

# --8<-- [start:plugin]
from pathlib import Path

from advokit import hookimpl


class Welcome:
    plugin_name = "welcome"

    @hookimpl
    def advokit_register_template_dirs(self, register):
        # templates/en/welcome.subject and templates/en/welcome.txt, next to this file
        register(Path(__file__).parent / "templates", name="welcome")


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, Advocate, ConfigurationError, Program, SendMessage
    from advokit.plugins.messages import Messages

    class Outbox:
        """A channel that keeps what it is given."""

        plugin_name = "outbox"

        def __init__(self):
            self.sent = []

        @hookimpl
        def advokit_register_channels(self, register):
            register(self, name="inbox")

        def address(self, advocate):
            return advocate.external_id

        def send(self, program, message):
            self.sent.append(message.rendered)

        @hookimpl
        def advokit_evaluate(self, action):
            if action.kind == "review.posted":
                yield SendMessage(advocate=action.advocate, channel="inbox", template="welcome")

    outbox = Outbox()
    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[Messages(secret="a-secret-of-32-characters-at-least"), Welcome(), outbox],
    )
    program.migrate()
    assert program.registries.template_dirs["welcome"] == Path(__file__).parent / "templates"
    program.enroll(Advocate(external_id="ann", name="Ann", consent={"inbox": True}))
    program.record(Action(kind="review.posted", advocate="ann", key="review-1"))
    program.deliver_pending()
    [rendered] = outbox.sent
    assert rendered.subject == "Welcome to the bakery, Ann!"
    assert rendered.text.startswith("Hello Ann,")

    class Missing:
        @hookimpl
        def advokit_register_template_dirs(self, register):
            register(Path("no-such-directory"), name="missing")

    try:
        Program(name="bakery", database_url="sqlite:///bakery.db", plugins=[Missing()])
    except ConfigurationError as refused:
        print(refused)
    else:
        raise AssertionError("a missing directory was accepted")
