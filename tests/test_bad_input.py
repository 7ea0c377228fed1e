"""Bad input gets a specific AdvokitError whose one-line message names field, value and need."""

from __future__ import annotations

from datetime import datetime

import pytest

from advokit import (
    Action,
    Advocate,
    AdvokitError,
    AwardPoints,
    ConfigurationError,
    InvalidValue,
    MissingData,
    Reward,
    UnknownActionKind,
    UnknownAdvocate,
)
from advokit.plugins.points import Cap, Multiplier, Points, PointsRule


def one_line(error: BaseException) -> str:
    message = str(error)
    assert "\n" not in message
    return message


def test_unknown_kind_lists_the_registered_kinds(advokit_program):
    advokit_program.enroll(Advocate(external_id="ann"))
    with pytest.raises(UnknownActionKind) as caught:
        advokit_program.record(Action(kind="purchase.complete", advocate="ann", key="k1"))
    message = one_line(caught.value)
    assert "action.kind='purchase.complete'" in message
    assert "purchase.completed" in message


def test_missing_data_names_the_field(advokit_program):
    advokit_program.enroll(Advocate(external_id="ann"))
    with pytest.raises(MissingData, match="order_id") as caught:
        advokit_program.record(Action(kind="purchase.completed", advocate="ann", key="k1"))
    one_line(caught.value)


def test_wrongly_typed_data_names_field_value_and_type(advokit_program):
    advokit_program.enroll(Advocate(external_id="ann"))
    action = Action(kind="survey.answered", advocate="ann", key="k1", data={"score": "nine"})
    with pytest.raises(InvalidValue, match=r"action.data\['score'\]='nine'.*int"):
        advokit_program.record(action)


def test_unknown_advocate_writes_nothing(advokit_program):
    advokit_program.enroll(Advocate(external_id="ann"))
    actions = [
        Action(kind="review.posted", advocate="ann", key="k1"),
        Action(kind="review.posted", advocate="ghost", key="k2"),
    ]
    with pytest.raises(UnknownAdvocate, match="advocate='ghost'"):
        advokit_program.record_many(actions)
    assert advokit_program.history("ann") == []


def test_derived_kinds_cannot_be_recorded(advokit_program):
    advokit_program.enroll(Advocate(external_id="ann"))
    action = Action(
        kind="points.changed",
        advocate="ann",
        key="k1",
        data={"account": "points", "delta": 5, "balance": 5, "cause": "x"},
    )
    with pytest.raises(InvalidValue, match="derived"):
        advokit_program.record(action)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Action(kind="review.posted", advocate="ann", key="has space"), "Action.key"),
        (lambda: Action(kind="review.posted", advocate="ann", key=""), "Action.key"),
        (lambda: Action(kind="review.posted", advocate="ann", key="k" * 256), "Action.key"),
        (lambda: Action(kind="Review", advocate="ann", key="k"), "Action.kind"),
        (lambda: Action(kind="review.posted", advocate="", key="k"), "Action.advocate"),
        (
            lambda: Action(
                kind="review.posted", advocate="a", key="k", occurred_at=datetime(2026, 1, 1)
            ),
            "Action.occurred_at",
        ),
        (
            lambda: Action(kind="review.posted", advocate="a", key="k", data={"when": object()}),
            "Action.data",
        ),
        (lambda: Advocate(external_id="a", email="not-an-email"), "Advocate.email"),
        (lambda: Advocate(external_id="a", phone="0123"), "Advocate.phone"),
        (lambda: Advocate(external_id="a", timezone="Mars/Olympus"), "Advocate.timezone"),
        (lambda: Advocate(external_id="a", kind="robot"), "Advocate.kind"),
        (lambda: Reward(kind="gift_card", amount=500), "Reward.currency"),
        (lambda: Reward(kind="coupon", amount=-1), "Reward.amount"),
        (
            lambda: AwardPoints(advocate="a", points=0, reason="purchase.completed"),
            "AwardPoints.points",
        ),
        (lambda: PointsRule("review.posted", points=-5), "PointsRule.points"),
        (lambda: Cap(-10), "Cap.limit"),
        (lambda: Cap(10, per="fortnight"), "Cap.per"),
        (lambda: Multiplier("lots"), "Multiplier.factor"),
        (lambda: Points(clawback="sometimes"), "Points.clawback"),
    ],
)
def test_value_objects_validate_what_they_are_given(build, field):
    with pytest.raises(AdvokitError) as caught:
        build()
    assert isinstance(caught.value, InvalidValue)
    assert one_line(caught.value).startswith(field)


def test_bad_database_url(tmp_path):
    from advokit import Program

    with pytest.raises(ConfigurationError, match="database_url") as caught:
        Program(name="p", database_url="nosuchdb://x")
    one_line(caught.value)


def test_points_rule_for_unregistered_kind_fails_at_construction(make_program):
    with pytest.raises(AdvokitError, match="purchase.complete"):
        make_program(plugins=[Points(PointsRule("purchase.complete", points=1))])


def test_reversal_field_must_exist_on_the_kind(make_program):
    with pytest.raises(AdvokitError, match="order_key"):
        make_program(plugins=[Points(reversals={"purchase.refunded": "order_key"})])


def test_unmigrated_database_says_how_to_fix_it(tmp_path):
    from advokit import DatabaseNotReady, Program

    program = Program(name="p", database_url=f"sqlite:///{tmp_path}/new.db", load_entrypoints=False)
    with pytest.raises(DatabaseNotReady, match="advokit db upgrade"):
        program.enroll(Advocate(external_id="ann"))
