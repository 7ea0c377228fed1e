"""Values whose exact form is stored: fingerprints, effects, and the engine's unchecked actions."""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, datetime

import attrs
import pytest

from advokit import (
    Action,
    AwardPoints,
    ChangeTier,
    DeductPoints,
    Effect,
    GrantBadge,
    HoldForReview,
    IssueReward,
    ReversePoints,
    Reward,
    SendMessage,
    Tag,
)
from advokit.core import codec, jsontext
from advokit.plugins.challenges import SetChallengeProgress
from advokit.plugins.referrals import ConvertReferral, VoidReferral


def stored_fingerprint(kind: str, advocate: str, data: dict) -> str:
    """The fingerprint formula stored rows were written with: it must never change."""
    body = json.dumps([kind, advocate, data], sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(body.encode(), digest_size=16).hexdigest()


@pytest.mark.parametrize(
    ("advocate", "data"),
    [
        ("cust-1", {}),
        ("cust-1", {"order_id": "o-1", "total_cents": 1250, "currency": "EUR"}),
        ("zoë-ß", {"z": 1.5, "a": 'naïve "quoted" \\ text', "n": {"b": [1, None, True]}}),
        ("日本-1", {"emoji": "🎉", "nested": {"z": {"y": [{"b": 2, "a": 1}]}}}),
    ],
)
def test_fingerprint_keeps_the_stored_formula(advocate, data):
    action = Action(kind="purchase.completed", advocate=advocate, key="k-1", data=data)
    assert action.fingerprint() == stored_fingerprint("purchase.completed", advocate, data)
    fingerprint, data_json = action._fingerprint_and_data()
    assert fingerprint == action.fingerprint()
    assert json.loads(data_json) == data


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"b": True, "a": False, "c": None, "d": -(2**70), "e": 0},
        {"ключ": "значение", 'z"q': "tab\there", "ctrl": "\x00\x1f", "emoji": "🎉"},
        {"f": 1.5, "n": {"y": 1}},  # not flat: the json module writes it
        {"l": [1, "x"], "a": 1},
    ],
)
def test_canonical_text_is_what_json_dumps_writes(data):
    assert jsontext.canonical(data) == json.dumps(data, sort_keys=True, separators=(",", ":"))


@pytest.mark.parametrize(
    "items",
    [(), ("held: velocity", 'naïve "q"'), (1, None, True), ("x", 1.5), ("x", {"a": 1})],
)
def test_array_text_is_what_json_dumps_writes(items):
    assert jsontext.array(items) == json.dumps(list(items))
    flat = all(type(i) in (str, int, bool, type(None)) for i in items)
    assert jsontext.scalars(items) == (json.dumps(list(items)) if flat else None)


def test_unchecked_action_equals_the_validated_one():
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    data = {"account": "points", "delta": 5, "balance": 15, "cause": "purchase.completed"}
    checked = Action(
        kind="points.changed", advocate="ann", key="o-1>p", occurred_at=when, data=data
    )
    unchecked = Action._unchecked("points.changed", "ann", "o-1>p", when, dict(data))
    assert unchecked == checked
    assert hash(unchecked) == hash(checked)
    assert unchecked.fingerprint() == checked.fingerprint()
    with pytest.raises(TypeError):
        unchecked.data["delta"] = 6  # type: ignore[index]


class Shade(enum.StrEnum):
    LIGHT = "light"


@attrs.frozen(kw_only=True)
class Paint(Effect):
    """A plugin's effect with a str enum field."""

    advocate: str
    shade: Shade = attrs.field(converter=Shade)


EFFECTS = [
    AwardPoints(advocate="cust-1", points=17, reason="purchase.completed"),
    AwardPoints(
        advocate='zoë "q" 日本',
        points=3,
        account="stars",
        reason="review.published",
        expires_at=datetime(2027, 1, 2, 3, 4, 5, 600, tzinfo=UTC),
        memo="naïve 🎉 memo",
    ),
    DeductPoints(advocate="cust-1", points=5, reason="reward.redeemed", allow_negative=True),
    ReversePoints(advocate="cust-1", action_key="o-1:paid", points=None, clawback="negative"),
    GrantBadge(advocate="cust-1", badge="First review", level=2),
    ChangeTier(advocate="cust-1", tier="Gold"),
    IssueReward(advocate="cust-1", reward=Reward(kind="gift_card", amount=2500, currency="EUR")),
    SendMessage(
        advocate="cust-1",
        channel="email",
        template="thanks",
        context={"n": [1, 2.5, None, True], "nested": {"b": "é", "a": {"x": []}}},
    ),
    HoldForReview(reason="velocity: 9 referrals in an hour"),
    Tag(advocate="cust-1", tag="vip", remove=True),
    # plugin effects with tuples and datetimes: written directly too
    ConvertReferral(
        friend="cust-2",
        order_id="o-1",
        amount_cents=2500,
        hold_until=datetime(2026, 7, 1, tzinfo=UTC),
    ),
    VoidReferral(friend="cust-2", reason="refunded"),
    # a str enum field: stored as its text, decoded back into the enum
    Paint(advocate="cust-1", shade=Shade.LIGHT),
    SetChallengeProgress(
        advocate="cust-1",
        challenge="june",
        period="2026-06",
        ends_at=datetime(2026, 7, 1, tzinfo=UTC),
        counts=(2, 0, 1),
        completed=False,
        read=3,
    ),
]


@pytest.mark.parametrize("effects", [[], *([e] for e in EFFECTS), EFFECTS])
def test_effects_json_is_the_stored_encoding(effects):
    """The engine's fast text is byte-identical to the codec's dicts through json.dumps."""
    text = codec.effects_json(effects)
    assert text == json.dumps([codec.encode_effect(e) for e in effects])
    assert tuple(codec.decode_effect(e) for e in json.loads(text)) == tuple(effects)


def test_a_derived_key_is_always_a_valid_key():
    from advokit.core.model import derived_key

    assert derived_key("order-1", "reversal") == "order-1>reversal"
    for suffix in ("jane doé", "x" * 300, "tab\there"):
        key = derived_key("tier.reviewed:2026-01-01", suffix)
        assert key.startswith("derived:")
        # usable as an action's key, and the same every time
        Action(kind="purchase.completed", advocate="a", key=key, data={"order_id": "1"})
        assert key == derived_key("tier.reviewed:2026-01-01", suffix)
    assert derived_key("r", "jane doé") != derived_key("r", "jane doe")
