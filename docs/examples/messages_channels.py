"""Messages: Slack, SMS and webhook channels, registered under their names."""

# --8<-- [start:channels]
from advokit.plugins.channels import SlackBot, SlackWebhook, TwilioSMS, Webhook

channels = [
    SlackWebhook("https://hooks.slack.com/services/...", name="team", destination="#care"),
    SlackBot("xoxb-...", name="community"),  # to each advocate's slack_id
    SlackBot("xoxb-...", channel="C0123", name="ops"),  # to one team channel
    TwilioSMS(account_sid="AC...", auth_token="...", sender="+14155550100", max_segments=3),
    Webhook(url="https://crm.example/advokit", secret="per-destination-secret", name="crm"),
]
# --8<-- [end:channels]

if __name__ == "__main__":
    from advokit import Program
    from advokit.plugins.messages import Messages

    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[Messages(secret="from-your-vault-32-characters-long"), *channels],
    )
    registered = program.registries.channels
    assert set(registered) == {"team", "community", "ops", "sms", "crm"}
    # who a channel reaches: the advocate, or the business
    reaches_advocates = {
        name for name in registered if getattr(registered[name], "to_advocate", True)
    }
    assert reaches_advocates == {"community", "sms"}
