"""Metrics: advocate types of one's own, as conditions evaluated in SQL."""

# --8<-- [start:types]
from advokit.plugins.scoring import Scoring, tagged
from advokit.plugins.scoring.types import AdvocateType, performed_at_least, tenure

scoring = Scoring(
    types=[
        AdvocateType("social_sharer", performed_at_least("share.posted", 5), "5 shares"),
        AdvocateType("ambassador", tagged("ambassador") & tenure(365), "tagged, a year in"),
    ]
)
# --8<-- [end:types]

if __name__ == "__main__":
    from advokit import Action, Advocate, Program

    program = Program(name="shop", database_url="sqlite:///shop.db", plugins=[scoring])
    program.migrate()
    program.enroll(Advocate(external_id="ann"))
    for n in range(5):
        program.record(Action(kind="share.posted", advocate="ann", key=f"share-{n}"))
    assert "social_sharer" in program.advocate_types_of("ann")
    assert "ambassador" not in program.advocate_types_of("ann")  # untagged, enrolled today
    assert program.score("advocate_types").counts["social_sharer"] == 1
