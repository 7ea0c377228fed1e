"""advokit_register_queries: a read-only question asked as a method of the program."""

# --8<-- [start:plugin]
import sqlalchemy as sa

from advokit import hookimpl
from advokit.core.store.queries import actions_t, advocates_t


def reviews_posted(program, advocate):
    """How many reviews the advocate posted (a toy query)."""
    query = (
        sa.select(sa.func.count())
        .select_from(actions_t.join(advocates_t, advocates_t.c.id == actions_t.c.advocate_id))
        .where(
            advocates_t.c.program == program.name,
            advocates_t.c.external_id == advocate,
            actions_t.c.kind == "review.posted",
            actions_t.c.status == "applied",
        )
    )
    with program.engine.connect() as conn:
        return conn.execute(query).scalar_one()


class ReviewCounts:
    plugin_name = "review-counts"

    @hookimpl
    def advokit_register_queries(self, register):
        register(reviews_posted)  # program.reviews_posted("ann")


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, Advocate, ConfigurationError, Program

    program = Program(name="bakery", database_url="sqlite:///bakery.db", plugins=[ReviewCounts()])
    program.migrate()
    program.enroll(Advocate(external_id="ann"))
    for key in ("review-1", "review-2", "review-1"):  # the retry records nothing
        program.record(Action(kind="review.posted", advocate="ann", key=key))
    assert program.reviews_posted("ann") == 2

    class Shadowing:
        @hookimpl
        def advokit_register_queries(self, register):
            register(reviews_posted, name="balance")  # a name the Program has

    try:
        Program(name="bakery", database_url="sqlite:///bakery.db", plugins=[Shadowing()])
    except ConfigurationError as error:
        refused = error
    else:
        raise AssertionError("a query named 'balance' was accepted")
    assert "shadowing" in str(refused)
