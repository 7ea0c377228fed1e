"""advokit-shoutouts' tests: run with `pytest` in the package's directory."""

import advokit_shoutouts
import pytest
import sqlalchemy as sa
from advokit_shoutouts.tables import shoutouts

from advokit import Action, Advocate, Status


@pytest.fixture
def program(make_program):
    program = make_program(plugins=[advokit_shoutouts])  # migrates the plugin's branch too
    program.enroll(Advocate(external_id="c-1", name="Ada"))
    return program


def shoutout(key, text="Thanks for the croissant photos"):
    return Action(kind="shoutout.given", advocate="c-1", key=key, data={"text": text})


def published(program):
    with program.engine.connect() as connection:
        return connection.execute(sa.select(shoutouts.c.text, shoutouts.c.action_key)).all()


def test_a_shoutout_is_published_and_earns_20_points(program):
    outcome = program.record(shoutout("s-1"))
    assert outcome.status is Status.APPLIED
    assert program.balance("c-1") == 20
    assert published(program) == [("Thanks for the croissant photos", "s-1")]


def test_a_retried_shoutout_is_published_once(program):
    program.record(shoutout("s-1"))
    assert program.record(shoutout("s-1")).replayed
    assert program.balance("c-1") == 20
    assert len(published(program)) == 1


def test_a_shoutout_needs_a_text(program):
    from advokit import MissingData

    with pytest.raises(MissingData):
        program.record(Action(kind="shoutout.given", advocate="c-1", key="s-1"))
    assert published(program) == []
