"""advokit_configure: check a plugin's settings against the finished program."""

# --8<-- [start:plugin]
from advokit import ConfigurationError, hookimpl


class ReviewBonus:
    plugin_name = "review-bonus"

    def __init__(self, kind="review.posted"):
        self.kind = kind

    @hookimpl
    def advokit_configure(self, program):
        if self.kind not in program.registries.action_kinds:
            raise ConfigurationError("ReviewBonus.kind", self.kind, "a registered action kind")


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import PluginError, Program

    Program(name="bakery", database_url="sqlite:///bakery.db", plugins=[ReviewBonus()])
    try:
        Program(
            name="bakery",
            database_url="sqlite:///bakery.db",
            plugins=[ReviewBonus(kind="review.psoted")],
        )
    except PluginError as error:
        refused = error
    else:
        raise AssertionError("a misspelt kind was accepted")
    print(refused)
    assert (refused.plugin, refused.hook) == ("review-bonus", "advokit_configure")
    assert isinstance(refused.error, ConfigurationError)
