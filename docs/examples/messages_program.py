"""Messages: the plugin, its settings and an email channel."""

if __name__ == "__main__":
    from pathlib import Path

    Path("templates").mkdir()  # the program's own templates (none yet)

    # --8<-- [start:program]
    from advokit import Program
    from advokit.plugins.channels import Email
    from advokit.plugins.messages import Delivery, Messages

    program = Program(
        name="bakery",
        plugins=[
            Messages(
                secret="from-your-vault-32-characters-long",
                templates="templates/",  # your own templates, searched first
                unsubscribe_url="https://bakery.example/unsubscribe/{token}",
                unsubscribe_mailto="unsubscribe@bakery.example",
                delivery=Delivery(max_attempts=8, concurrency=4),
            ),
            Email(
                host="smtp.example",
                port=587,
                sender="Bakery <hello@bakery.example>",
                username="bakery",
                password="...",
            ),
        ],
    )
    # --8<-- [end:program]

    program.migrate()
    assert set(program.registries.channels) == {"email"}
    assert program.deliver_pending().claimed == 0  # nothing queued, nothing sent
