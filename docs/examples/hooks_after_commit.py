"""advokit_after_commit: observe outcomes once they are committed."""

# --8<-- [start:plugin]
import logging

from advokit import hookimpl

log = logging.getLogger("bakery")


class AuditLog:
    plugin_name = "audit-log"

    @hookimpl
    def advokit_after_commit(self, outcomes):
        for outcome in outcomes:
            log.info(
                "%s %s: %s (%+d points)", outcome.kind, outcome.key, outcome.status, outcome.points
            )


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, Advocate, Program
    from advokit.plugins.points import Points, PointsRule

    class Lines(logging.Handler):
        def __init__(self):
            super().__init__()
            self.lines = []

        def emit(self, record):
            self.lines.append(record.getMessage())

    lines = Lines()
    log.addHandler(lines)
    log.setLevel(logging.INFO)
    program = Program(
        name="bakery",
        database_url="sqlite:///bakery.db",
        plugins=[AuditLog(), Points(PointsRule("review.posted", 50))],
    )
    program.migrate()
    program.enroll(Advocate(external_id="ann"))
    program.record(Action(kind="review.posted", advocate="ann", key="review-1"))
    program.record(Action(kind="review.posted", advocate="ann", key="review-1"))  # replayed
    assert lines.lines == ["review.posted review-1: applied (+50 points)"]
