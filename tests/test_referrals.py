"""Referral codes and links, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from advokit import Action, Advocate, AdvokitError, ConfigurationError, InvalidValue, Status
from advokit.core.errors import UnknownAdvocate
from advokit.plugins.points import Points, PointsRule
from advokit.plugins.referrals import ALPHABET, REFERRAL_SHARED, Referrals, codes_t
from advokit.plugins.referrals import codes as code_module
from helpers import ask_referral_code, build_referrals_program, run_processes

LINK = "https://bakery.example/r/{code}"


@pytest.fixture
def program(make_program, database_url):
    program = make_program(
        database_url=database_url,
        plugins=[
            Referrals(link=LINK, code_lifetime=timedelta(days=30)),
            Points(PointsRule(REFERRAL_SHARED, points=5)),
        ],
    )
    program.enroll_many(Advocate(external_id=name) for name in ("ann", "bob"))
    return program


def codes_in_use(program):
    t = codes_t
    query = sa.select(t.c.code).where(sa.not_(t.c.vanity), t.c.deactivated_at.is_(None))
    with program.engine.connect() as conn:
        return conn.execute(query).scalars().all()


# --------------------------------------------------------------------------- generated codes


def test_a_code_is_made_on_first_use_then_the_same_one_is_returned(program, advokit_clock):
    first = program.referral_code("ann")
    assert len(first.code) == 8 and set(first.code) <= set(ALPHABET)
    assert first.link == f"https://bakery.example/r/{first.code}"
    assert (first.advocate, first.vanity, first.active) == ("ann", False, True)
    assert first.created_at == advokit_clock.now
    assert first.expires_at == advokit_clock.now + timedelta(days=30)
    assert program.referral_code("ann") == first
    assert program.referral_code("bob").code != first.code
    assert program.referral_codes("ann") == [first]


def test_the_alphabet_leaves_out_characters_people_confuse():
    assert not set("0O1ILUV") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 29


def test_a_friend_finds_the_code_however_they_type_it(program):
    code = program.referral_code("ann").code
    typed = f" {code[:4].lower()}-{code[4:].lower()} "
    assert program.find_referral_code(typed).advocate == "ann"


def test_an_unknown_code_is_refused_naming_the_program(program):
    with pytest.raises(InvalidValue, match=r"code='NOPE2345'.*referral code of program 'test'"):
        program.find_referral_code("NOPE2345")


def test_an_expired_code_is_refused_and_the_advocate_gets_a_new_one(program, advokit_clock):
    old = program.referral_code("ann")
    advokit_clock.advance(days=30)
    with pytest.raises(InvalidValue, match="expired"):
        program.find_referral_code(old.code)
    new = program.referral_code("ann")
    assert new.code != old.code and new.usable_at(advokit_clock.now)
    # the expired one is kept, retired; only the new one is in use
    assert [c.code for c in program.referral_codes("ann")] == [old.code, new.code]
    assert codes_in_use(program) == [new.code]


def test_deactivating_keeps_the_first_time_and_makes_room_for_a_new_code(program, advokit_clock):
    old = program.referral_code("ann")
    retired = program.deactivate_referral_code(old.code.lower())
    assert retired.deactivated_at == advokit_clock.now and not retired.active
    advokit_clock.advance(hours=1)
    assert program.deactivate_referral_code(old.code).deactivated_at == retired.deactivated_at
    with pytest.raises(InvalidValue, match="deactivated"):
        program.find_referral_code(old.code)
    assert program.referral_code("ann").code != old.code
    with pytest.raises(InvalidValue, match="referral code of program"):
        program.deactivate_referral_code("NOPE2345")


def test_an_unknown_advocate_has_no_code(program):
    with pytest.raises(UnknownAdvocate):
        program.referral_code("zoe")


def test_a_drawn_code_already_in_use_is_drawn_again(program, monkeypatch):
    taken = program.referral_code("ann").code
    draws = iter([taken, "BBBBBBBB"])
    monkeypatch.setattr(code_module, "generate", lambda length: next(draws))
    assert program.referral_code("bob").code == "BBBBBBBB"


def test_running_out_of_draws_says_what_to_change(program, monkeypatch):
    taken = program.referral_code("ann").code
    monkeypatch.setattr(code_module, "generate", lambda length: taken)
    with pytest.raises(AdvokitError, match=r"code_length"):
        program.referral_code("bob")
    assert program.referral_codes("bob") == []  # nothing half-written


# --------------------------------------------------------------------------- vanity codes


def test_a_vanity_code_is_normalised_and_asking_again_returns_it(program):
    code = program.referral_code("ann", vanity="anna-bakes")
    assert (code.code, code.vanity, code.link) == (
        "ANNABAKES",
        True,
        "https://bakery.example/r/ANNABAKES",
    )
    assert program.referral_code("ann", vanity="ANNA BAKES") == code
    assert program.find_referral_code("Anna-Bakes").advocate == "ann"
    # a vanity code does not replace the generated one
    assert program.referral_code("ann").vanity is False


def test_a_vanity_code_someone_else_uses_is_refused(program):
    program.referral_code("ann", vanity="ANNABAKES")
    with pytest.raises(InvalidValue, match="vanity='ANNABAKES'.*nobody else uses"):
        program.referral_code("bob", vanity="annabakes")


@pytest.mark.parametrize("vanity", ["ab", "x" * 33, "anna!", "é-caf"])
def test_a_bad_vanity_code_is_refused(program, vanity):
    with pytest.raises(InvalidValue, match="vanity=.*3 to 32 letters"):
        program.referral_code("ann", vanity=vanity)


def test_an_expiry_in_the_past_is_refused(program, advokit_clock):
    with pytest.raises(InvalidValue, match="expires_at=.*a time after now"):
        program.referral_code("ann", expires_at=advokit_clock.now)


# --------------------------------------------------------------------------- sharing


def test_sharing_is_an_action_other_rules_reward(program):
    outcome = program.record(
        Action(kind=REFERRAL_SHARED, advocate="ann", key="s-1", data={"channel": "whatsapp"})
    )
    assert outcome.status is Status.APPLIED and outcome.points == 5


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"link": "https://bakery.example/r/"}, "Referrals.link"),
        ({"link": "https://bakery.example/{advocate}/{code}"}, "Referrals.link"),
        ({"link": "ftp://bakery.example/{code}"}, "Referrals.link"),
        ({"link": "https://bakery.example/{code"}, "Referrals.link"),
        ({"code_length": 5}, "Referrals.code_length"),
        ({"code_length": True}, "Referrals.code_length"),
        ({"code_lifetime": timedelta(0)}, "Referrals.code_lifetime"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(settings, field):
    with pytest.raises(ConfigurationError, match=field.replace(".", r"\.")):
        Referrals(**settings)


def test_without_a_link_codes_have_none(make_program):
    program = make_program(plugins=[Referrals()])
    program.enroll(Advocate(external_id="ann"))
    assert program.referral_code("ann").link is None


# --------------------------------------------------------------------------- concurrency


@pytest.mark.timeout(300)
def test_four_processes_asking_at_once_get_one_code_per_advocate(database_url):
    program = build_referrals_program(database_url)
    program.migrate()
    program.enroll_many(Advocate(external_id=f"friend-{n}") for n in range(20))
    reports = run_processes(ask_referral_code, database_url, processes=4, calls=20)
    assert all(not r["errors"] for r in reports), [r["errors"] for r in reports]
    # every process was handed the same code for each advocate, the only one in use
    assert all(r["outcomes"] == reports[0]["outcomes"] for r in reports)
    assert sorted(codes_in_use(program)) == sorted(reports[0]["outcomes"])
    program.close()
