"""advokit_register_workers: a background job that `advokit worker` runs in turn."""

# --8<-- [start:plugin]
from advokit import hookimpl


class Reminders:
    plugin_name = "reminders"

    def __init__(self):
        self.due = ["ann", "bob"]  # a real job reads what is due from the database

    @hookimpl
    def advokit_register_workers(self, register):
        register(self.send_due, name="reminders")

    def send_due(self, program):
        sent, self.due = len(self.due[:10]), self.due[10:]
        return sent  # how many reminders this round sent; 0 when there was nothing to do


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Program

    reminders = Reminders()
    program = Program(name="bakery", database_url="sqlite:///bakery.db", plugins=[reminders])
    job = program.registries.workers["reminders"]
    # what `advokit worker --once` does: rounds until a round does nothing
    rounds = []
    while done := job(program):
        rounds.append(done)
    assert rounds == [2]
