"""Metrics: segments, named conditions on advocates evaluated in SQL."""

# --8<-- [start:program]
from advokit import Program
from advokit.plugins.scoring import Scoring, Segment, attribute, nps_category, tagged

program = Program(
    name="shop",
    database_url="sqlite:///shop.db",
    plugins=[
        Scoring(
            segments=[
                Segment("vip", tagged("vip")),
                Segment("pro_promoters", attribute("plan", "pro") & nps_category("promoter")),
            ]
        )
    ],
)
# --8<-- [end:program]

if __name__ == "__main__":
    from advokit import Action, Advocate, UnknownName

    program.migrate()
    for who, plan, score in [("ann", "pro", 10), ("bo", "pro", 5), ("cy", "free", 9)]:
        program.enroll(Advocate(external_id=who, attributes={"plan": plan}))
        program.record(
            Action(kind="survey.answered", advocate=who, key=f"nps-{who}", data={"score": score})
        )
    pro_promoters = program.score("nps", segment="pro_promoters")
    assert (pro_promoters.n, pro_promoters.value) == (1, 100.0)  # Ann alone
    assert program.score("nps", segment="vip").n == 0  # nobody is tagged vip
    try:
        program.score("nps", segment="vips")
    except UnknownName as error:
        print(error)  # names the registered segments
    else:
        raise AssertionError("an unknown segment was accepted")
