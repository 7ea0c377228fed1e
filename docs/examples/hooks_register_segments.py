"""advokit_register_segments: named groups of advocates every metric can take."""

# --8<-- [start:plugin]
from advokit import hookimpl
from advokit.plugins.scoring import Segment, attribute, tagged


class Wholesale:
    plugin_name = "wholesale"

    @hookimpl
    def advokit_register_segments(self, register):
        register(Segment("wholesale", attribute("channel", "wholesale")))
        register(Segment("wholesale_vip", attribute("channel", "wholesale") & tagged("vip")))


# --8<-- [end:plugin]

if __name__ == "__main__":
    from advokit import Action, Advocate, Program

    program = Program(name="bakery", database_url="sqlite:///bakery.db", plugins=[Wholesale()])
    program.migrate()
    answers = {"cafe-1": 10, "cafe-2": 3, "ann": 9}
    for who, score in answers.items():
        channel = "retail" if who == "ann" else "wholesale"
        program.enroll(Advocate(external_id=who, attributes={"channel": channel}))
        program.record(
            Action(kind="survey.answered", advocate=who, key=f"nps-{who}", data={"score": score})
        )
    wholesale = program.score("nps", segment="wholesale")
    assert (wholesale.n, wholesale.value) == (2, 0)  # a promoter and a detractor
    assert program.score("nps").n == 3
    assert program.score("nps", segment="wholesale_vip").n == 0  # nobody is tagged vip
