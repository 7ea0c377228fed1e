"""advokit_register_commands: a subcommand of `advokit`, when it runs with a program."""

# --8<-- [start:plugin]
from advokit import Program, hookimpl


class Shoutouts:
    plugin_name = "shoutouts"

    @hookimpl
    def advokit_register_commands(self, register):
        import click

        from advokit.cli import current_program

        @click.command("shoutouts")
        @click.option("--limit", default=10, show_default=True)
        def shoutouts(limit):
            """Print the latest shout-outs."""
            click.echo(f"the last {limit} shout-outs of {current_program().name}")

        register(shoutouts)


# advokit --program this_module:program shoutouts --limit 3
program = Program(name="bakery", database_url="sqlite:///bakery.db", plugins=[Shoutouts()])
# --8<-- [end:plugin]

if __name__ == "__main__":
    import os
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    advokit = Path(sys.executable).with_name("advokit")  # the console script beside python
    run = subprocess.run(
        [advokit, "--program", "hooks_register_commands:program", "shoutouts", "--limit", "3"],
        env={**os.environ, "PYTHONPATH": str(here)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout == "the last 3 shout-outs of bakery\n", run.stdout
