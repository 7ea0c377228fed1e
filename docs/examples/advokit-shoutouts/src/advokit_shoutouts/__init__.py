# --8<-- [start:head]
"""advokit-shoutouts: thank advocates in public, and give them points for it."""

from __future__ import annotations

from pathlib import Path

import attrs

from advokit import ActionKind, AwardPoints, Effect, hookimpl

KIND = "shoutout.given"
POINTS = 20
# --8<-- [end:head]

# --8<-- [start:evaluates]
advokit_evaluates = frozenset({KIND})
# --8<-- [end:evaluates]


# --8<-- [start:kinds]
@hookimpl
def advokit_register_action_kinds(register):
    register(
        ActionKind(
            name=KIND,
            required={"text": str},
            description="The business thanked the advocate in public.",
        )
    )


# --8<-- [end:kinds]


# --8<-- [start:evaluate]
@attrs.frozen(kw_only=True)
class PublishShoutout(Effect):
    """Publish a thank-you note to an advocate on the wall of fame."""

    advocate: str
    text: str


@hookimpl
def advokit_evaluate(ctx, action):
    if action.kind != KIND:
        return None
    return [
        PublishShoutout(advocate=action.advocate, text=action.data["text"]),
        AwardPoints(advocate=action.advocate, points=POINTS, reason=KIND),
    ]


# --8<-- [end:evaluate]


# --8<-- [start:apply]
@hookimpl
def advokit_apply_effect(tx, effect):
    if not isinstance(effect, PublishShoutout):
        return None  # not ours: let another plugin try
    from advokit_shoutouts.tables import shoutouts

    tx.insert(
        shoutouts,
        {
            "advocate_id": tx.view.advocate_id(effect.advocate),
            "text": effect.text,
            "action_key": tx.root_key,
            "published_at": tx.now,
        },
    )
    return True


# --8<-- [end:apply]


# --8<-- [start:migrations]
@hookimpl
def advokit_register_migrations(register):
    register(Path(__file__).parent / "migrations", name="shoutouts")


# --8<-- [end:migrations]


# --8<-- [start:commands]
@hookimpl
def advokit_register_commands(register):
    from advokit_shoutouts.cli import shoutouts

    register(shoutouts)


# --8<-- [end:commands]
