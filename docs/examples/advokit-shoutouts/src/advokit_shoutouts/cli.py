"""``advokit shoutouts``: the latest shout-outs of the program."""

from __future__ import annotations

import click


@click.command("shoutouts")
@click.option("--limit", default=10, show_default=True, help="How many to show.")
def shoutouts(limit: int) -> None:
    """Print the latest shout-outs, newest first."""
    import sqlalchemy as sa

    from advokit.cli import current_program
    from advokit.core.store.tables import AdvocateRow
    from advokit_shoutouts.tables import shoutouts as table

    program = current_program()
    advocates = AdvocateRow.__table__
    query = (
        sa.select(advocates.c.external_id, table.c.text)
        .join(advocates, advocates.c.id == table.c.advocate_id)
        .where(advocates.c.program == program.name)
        .order_by(table.c.id.desc())
        .limit(limit)
    )
    with program.engine.connect() as connection:
        for advocate, text in connection.execute(query):
            click.echo(f"{advocate}: {text}")
