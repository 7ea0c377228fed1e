"""advokit_on_record_error: observe a batch that was rolled back."""

# --8<-- [start:plugin]
from advokit import hookimpl


class FailedBatches:
    plugin_name = "failed-batches"

    def __init__(self):
        self.failed = []

    @hookimpl
    def advokit_on_record_error(self, actions, error):
        self.failed.append(([a.key for a in actions], repr(error)))


# --8<-- [end:plugin]

if __name__ == "__main__":
    import contextlib

    from advokit import Action, Advocate, PluginError, Program, UnknownAdvocate

    class Broken:
        plugin_name = "broken"

        @hookimpl
        def advokit_evaluate(self, action):
            raise RuntimeError("boom")

    observer = FailedBatches()
    program = Program(
        name="bakery", database_url="sqlite:///bakery.db", plugins=[observer, Broken()]
    )
    program.migrate()
    program.enroll(Advocate(external_id="ann"))
    batch = [Action(kind="review.posted", advocate="ann", key=f"review-{n}") for n in (1, 2)]
    try:
        program.record_many(batch)
    except PluginError as error:
        refused = error
    assert (refused.plugin, refused.hook) == ("broken", "advokit_evaluate")
    [(keys, error)] = observer.failed
    assert keys == ["review-1", "review-2"]
    assert "boom" in error
    with contextlib.suppress(UnknownAdvocate):  # an input error does not call the observers
        program.record(Action(kind="review.posted", advocate="nobody", key="review-3"))
    assert len(observer.failed) == 1
