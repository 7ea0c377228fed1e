"""The badges plugin: criteria, levels once each, prerequisites, expiry, Open Badges 3.0."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from advokit import Action, Advocate, AwardPoints, ConfigurationError, hookimpl
from advokit.core import codec
from advokit.core.errors import InvalidValue, PluginError
from advokit.plugins.badges import (
    BADGE_GRANTED,
    Badge,
    Badges,
    Count,
    Predicate,
    RevokeBadge,
    Streak,
    Total,
    awards_t,
    revoke,
    states_t,
)
from helpers import ADVOCATE, build_badges_program, count_rows, post_reviews, run_processes

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
REVIEWER = Badge("reviewer", Count("review.posted", levels=(1, 3, 5)), title="Reviewer")


@pytest.fixture
def badged(make_program, database_url):
    """``badged(*badges, plugins=...)``: ann (Europe/Paris) and bob enrolled, on both databases."""

    def make(*badges, plugins=()):
        program = make_program(plugins=[Badges(*badges), *plugins], database_url=database_url)
        program.enroll(Advocate(external_id="ann", timezone="America/New_York"))
        program.enroll(Advocate(external_id="bob"))
        return program

    return make


def review(program, who, key, at=None):
    return program.record(
        Action(kind="review.posted", advocate=who, key=key, occurred_at=at, data={"rating": 5})
    )


def buy(program, who, key, cents, at=None):
    return program.record(
        Action(
            kind="purchase.completed",
            advocate=who,
            key=key,
            occurred_at=at,
            data={"order_id": key, "total_cents": cents},
        )
    )


def levels(program, who):
    return {s.badge.name: s.level for s in program.badges(who)}


# --------------------------------------------------------------------------- criteria and levels


def test_badges_granted_together_each_count_toward_a_badge_of_badges(badged):
    """Sibling derived actions are evaluated in turn: each reads what the previous staged."""
    program = badged(
        Badge("first_review", Count("review.posted")),
        Badge("early_bird", Count("review.posted")),
        Badge("collector", Count("badge.granted", levels=(2,))),
    )
    review(program, "ann", "r1")  # grants first_review and early_bird in one action
    assert levels(program, "ann") == {"first_review": 1, "early_bird": 1, "collector": 1}


def test_each_level_is_granted_once_and_retries_replay(badged):
    granted = []

    class Listener:
        plugin_name = "listener"
        advokit_evaluates = frozenset({BADGE_GRANTED})

        @hookimpl
        def advokit_evaluate(self, action):
            granted.append((action.advocate, action.data["badge"], action.data["level"]))
            return [AwardPoints(advocate=action.advocate, points=10, reason="badge.bonus")]

    program = badged(REVIEWER, plugins=[Listener()])
    assert levels(program, "ann") == {"reviewer": 0}
    for i in range(6):
        review(program, "ann", f"r{i}")
        review(program, "ann", f"r{i}")  # a retry replays
    assert granted == [("ann", "reviewer", 1), ("ann", "reviewer", 2), ("ann", "reviewer", 3)]
    assert program.balance("ann") == 30
    [status] = program.badges("ann")
    assert (status.level, status.value, status.next_threshold) == (3, 6, None)
    assert count_rows(program, awards_t) == 3


def test_one_action_can_reach_several_levels(badged):
    program = badged(
        Badge("spender", Total("purchase.completed", "total_cents", levels=(100, 500)))
    )
    buy(program, "ann", "o1", 50)
    assert levels(program, "ann") == {"spender": 0}
    buy(program, "ann", "o2", 600)
    assert levels(program, "ann") == {"spender": 2}
    status = program.badges("ann")[0]
    assert status.value == 650


def test_count_within_a_sliding_window(badged, advokit_clock):
    program = badged(
        Badge("busy_week", Count("review.posted", levels=(3,), within=timedelta(days=7)))
    )
    start = advokit_clock()
    review(program, "ann", "r1", start)
    review(program, "ann", "r2", start + timedelta(days=3))
    review(program, "ann", "r3", start + timedelta(days=8))  # r1 left the window
    assert levels(program, "ann") == {"busy_week": 0}
    review(program, "ann", "r4", start + timedelta(days=9))  # r2, r3, r4 within 7 days
    assert levels(program, "ann") == {"busy_week": 1}


def test_streak_across_midnight_and_dst_in_the_advocates_time_zone(badged):
    program = badged(Badge("regular", Streak("review.posted", levels=(3, 5))))
    # ann lives in New York; DST ends on 2026-11-01 at 02:00 local (06:00 UTC)
    local = [
        datetime(2026, 10, 30, 23, 50),  # Fri late evening
        datetime(2026, 10, 31, 0, 10),  # Sat just after midnight: next day
        datetime(2026, 11, 1, 1, 30),  # Sun, before the clocks go back (EDT)
        datetime(2026, 11, 1, 23, 30),  # Sun again, after (EST): same day, no step
        datetime(2026, 11, 2, 0, 15),  # Mon
    ]
    utc = [
        datetime(2026, 10, 31, 3, 50, tzinfo=UTC),
        datetime(2026, 10, 31, 4, 10, tzinfo=UTC),
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 2, 4, 30, tzinfo=UTC),
        datetime(2026, 11, 2, 5, 15, tzinfo=UTC),
    ]
    assert [
        u.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York")).replace(tzinfo=None)
        for u in utc
    ] == local
    for i, at in enumerate(utc):
        review(program, "ann", f"r{i}", at)
    status = program.badges("ann")[0]
    assert (status.value, status.level) == (4, 1)  # Fri, Sat, Sun, Mon
    # the same UTC times for bob (UTC): Sat, Sat, Sun, Mon, Mon -> 3 days
    for i, at in enumerate(utc):
        review(program, "bob", f"b{i}", at)
    assert program.badges("bob")[0].value == 3


def test_a_gap_restarts_the_streak_and_weeks_work_too(badged, advokit_clock):
    program = badged(
        Badge("daily", Streak("review.posted", levels=(2,))),
        Badge("weekly", Streak("review.posted", levels=(2,), unit="week")),
    )
    start = datetime(2026, 6, 1, 12, tzinfo=UTC)  # a Monday
    review(program, "bob", "r1", start)
    review(program, "bob", "r2", start + timedelta(days=2))  # gap: streak back to 1
    assert levels(program, "bob") == {"daily": 0, "weekly": 0}
    review(program, "bob", "r3", start + timedelta(days=8))  # next ISO week
    assert levels(program, "bob") == {"daily": 0, "weekly": 1}


def test_predicate_criterion(badged):
    big = Predicate({"purchase.completed"}, lambda ctx, a: a.data["total_cents"] >= 10_000)
    program = badged(Badge("big_order", big, description="An order of 100 or more"))
    buy(program, "ann", "o1", 5_000)
    assert levels(program, "ann") == {"big_order": 0}
    buy(program, "ann", "o2", 20_000)
    buy(program, "ann", "o3", 30_000)
    assert levels(program, "ann") == {"big_order": 1}


# --------------------------------------------------------------------------- prerequisites, expiry


def test_prerequisites_hidden_badges_and_expiry(badged, advokit_clock):
    ambassador = Badge(
        "ambassador",
        Count("review.posted", levels=(2,)),
        requires=("first_buy",),
        hidden=True,
        expires_after=timedelta(days=30),
    )
    program = badged(ambassador, Badge("first_buy", Count("purchase.completed")))
    review(program, "ann", "r1")
    review(program, "ann", "r2")
    assert levels(program, "ann") == {"first_buy": 0}  # hidden, and not earned: first_buy missing
    buy(program, "ann", "o1", 100)
    review(program, "ann", "r3")
    assert levels(program, "ann") == {"ambassador": 1, "first_buy": 1}
    status = {s.badge.name: s for s in program.badges("ann")}["ambassador"]
    assert status.expires_at == status.awarded_at + timedelta(days=30)
    advokit_clock.advance(days=31)
    assert levels(program, "ann") == {"first_buy": 1}  # expired: no longer held, hidden again


def test_revocation(badged):
    program = badged(REVIEWER)
    for i in range(3):
        review(program, "ann", f"r{i}")
    assert levels(program, "ann") == {"reviewer": 2}
    program.record(revoke("ann", "reviewer", reason="fake reviews", key="rv1"))
    assert levels(program, "ann") == {"reviewer": 0}
    review(program, "ann", "r9")  # progress goes on; revoked levels are not granted again
    assert levels(program, "ann") == {"reviewer": 0}
    with pytest.raises(PluginError, match="badges.*'nope'.*one of reviewer"):
        program.record(revoke("ann", "nope", reason="x", key="rv2"))


# --------------------------------------------------------------------------- Open Badges 3.0


ISSUER = {"id": "https://coffee.example/", "name": "The Coffee Shop"}


def test_open_badges_3_credential_has_the_required_structure(badged):
    program = badged(
        Badge(
            "reviewer",
            Count("review.posted", levels=(1, 3)),
            title="Reviewer",
            description="Posts honest reviews",
            image="https://coffee.example/img/reviewer.png",
        )
    )
    for i in range(3):
        review(program, "ann", f"r{i}")
    credential = program.badge_credential("ann", "reviewer", issuer=ISSUER)
    check_open_badge_credential(credential)
    assert credential["name"] == "Reviewer (2 of 2)"
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["criteria"]["narrative"] == "3 review.posted actions"
    assert achievement["image"] == {
        "id": "https://coffee.example/img/reviewer.png",
        "type": "Image",
    }
    first = program.badge_credential("ann", "reviewer", issuer=ISSUER, level=1)
    check_open_badge_credential(first)
    assert first["id"] != credential["id"]
    assert program.badge_credential("ann", "reviewer", issuer=ISSUER) == credential  # stable id

    with pytest.raises(InvalidValue, match="badge"):
        program.badge_credential("bob", "reviewer", issuer=ISSUER)
    with pytest.raises(InvalidValue, match="issuer"):
        program.badge_credential("ann", "reviewer", issuer={"name": "x"})


def check_open_badge_credential(credential):
    """The required fields of the OB 3.0 data model (OpenBadgeCredential, Achievement...)."""
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert credential["@context"][1].startswith("https://purl.imsglobal.org/spec/ob/v3p0/context")
    assert {"VerifiableCredential", "OpenBadgeCredential"} <= set(credential["type"])
    assert credential["id"].startswith("urn:uuid:")
    issuer = credential["issuer"]
    assert issuer["id"] and "Profile" in issuer["type"] and issuer["name"]
    datetime.fromisoformat(credential["validFrom"])
    subject = credential["credentialSubject"]
    assert "AchievementSubject" in subject["type"] and subject["id"]
    achievement = subject["achievement"]
    assert achievement["id"] and "Achievement" in achievement["type"]
    assert achievement["name"] and achievement["description"]
    assert achievement["criteria"].get("narrative") or achievement["criteria"].get("id")


# --------------------------------------------------------------------------- configuration


def test_bad_badge_configurations_are_refused(make_program):
    with pytest.raises(ConfigurationError, match=r"requires.*a -> b -> a"):
        Badges(
            Badge("a", Count("review.posted"), requires=("b",)),
            Badge("b", Count("review.posted"), requires=("a",)),
        )
    with pytest.raises(ConfigurationError, match=r"Badge\('a'\).requires.*'zzz'"):
        Badges(Badge("a", Count("review.posted"), requires=("zzz",)))
    with pytest.raises(ConfigurationError, match="Count.levels"):
        Count("review.posted", levels=(5, 3))
    with pytest.raises(ConfigurationError, match="Badges.*'a'.*once"):
        Badges(Badge("a", Count("review.posted")), Badge("a", Count("share.posted")))
    with pytest.raises(ConfigurationError, match="criterion"):
        Badge("a", "review.posted")
    with pytest.raises(InvalidValue, match="unit"):
        Streak("review.posted", levels=(2,), unit="month")
    with pytest.raises(
        PluginError, match=r"plugin 'badges'.*Badge\('a'\).criterion.kind='no.such'"
    ):
        make_program(plugins=[Badges(Badge("a", Count("no.such")))])


# --------------------------------------------------------------------------- concurrency


@pytest.mark.timeout(300)
def test_levels_once_and_no_lost_progress_under_four_processes(database_url):
    from helpers import prepared_program

    prepared_program(database_url).close()
    program = build_badges_program(database_url)
    program.migrate()
    reports = run_processes(post_reviews, database_url, processes=4, calls=25)
    assert all(not r["errors"] for r in reports), [r["errors"] for r in reports]
    replayed = sum(o[1] for r in reports for o in r["outcomes"])
    assert replayed == 4 * 5  # each worker retried 5 keys
    with program.engine.connect() as conn:
        awarded = (
            conn.execute(
                sa.select(awards_t.c.level).where(awards_t.c.badge == "reviewer").order_by("level")
            )
            .scalars()
            .all()
        )
        stored = conn.execute(sa.select(states_t.c.progress)).scalar_one()
    progress = json.loads(stored) if isinstance(stored, str) else stored
    count, awarded_level = progress["reviewer"][0], progress["reviewer"][5]
    assert awarded == [1, 2, 3]
    assert count == 80  # every one of the 80 distinct reviews counted once
    assert awarded_level == 3
    assert [s.level for s in program.badges(ADVOCATE)] == [3]
    program.close()


def test_effects_stored_under_the_old_module_name_still_decode():
    """Outcomes recorded when the plugin was one module name it as ``advokit.plugins.badges``."""
    stored = {
        "type": "advokit.plugins.badges:RevokeBadge",
        "fields": {"advocate": "ann", "badge": "reviewer", "reason": "fake reviews"},
    }
    assert codec.decode_effect(stored) == RevokeBadge(
        advocate="ann", badge="reviewer", reason="fake reviews"
    )


# --------------------------------------------------------------------------- migration


def test_badges_0002_moves_progress_and_awarded_levels_into_one_row_per_advocate(database_url):
    """Rows of badges_progress (and the awards' highest level) survive the upgrade and back."""
    from alembic import command

    from advokit.core.store import migrate
    from advokit.core.store import queries as q
    from advokit.core.store.database import connect, transaction
    from advokit.plugins.badges.plugin import MIGRATIONS

    engine = connect(database_url)
    migrate.upgrade(engine, [MIGRATIONS], revision="badges_0001")
    now = "2026-06-01 12:00:00.000000"  # as UTCDateTime stores it on both databases
    with transaction(engine) as conn:
        conn.execute(
            q.advocates_t.insert(),
            {
                "id": 7,
                "program": "p",
                "external_id": "ann",
                "kind": "customer",
                "locale": "en",
                "timezone": "UTC",
                "attributes": {},
                "consent": {},
                "enrolled_at": NOW,
                "updated_at": NOW,
            },
        )
        conn.exec_driver_sql(
            "INSERT INTO badges_progress (advocate_id, badge, program, version, count, total,"
            " streak, last_period, recent) VALUES"
            " (7, 'reviewer', 'p', 4, 3, 0, 0, NULL, '[]'),"
            " (7, 'sharer', 'p', 2, 2, 0, 0, NULL, '[\"2026-06-01T10:00:00+00:00\"]')"
        )
        conn.exec_driver_sql(
            "INSERT INTO badges_awards (program, advocate_id, badge, level, action_key,"
            f" awarded_at) VALUES ('p', 7, 'reviewer', 1, 'r1', '{now}'),"
            f" ('p', 7, 'reviewer', 2, 'r3', '{now}'), ('p', 7, 'first', 1, 'x', '{now}')"
        )
    migrate.upgrade(engine, [MIGRATIONS])
    with engine.connect() as conn:
        row = conn.execute(sa.select(states_t)).one()
    progress = json.loads(row.progress) if isinstance(row.progress, str) else row.progress
    assert (row.advocate_id, row.program, row.version) == (7, "p", 1)
    assert progress == {
        "reviewer": [3, 0, 0, None, [], 2],
        "sharer": [2, 0, 0, None, ["2026-06-01T10:00:00+00:00"], 0],
        "first": [0, 0, 0, None, [], 1],  # awarded before any progress was kept
    }

    config = migrate.alembic_config(engine, [MIGRATIONS])
    with migrate._migrating(engine) as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "badges_0001")
    with engine.connect() as conn:
        back = conn.exec_driver_sql(
            "SELECT badge, count, recent FROM badges_progress ORDER BY badge"
        ).all()
    engine.dispose()
    assert [(badge, count) for badge, count, _ in back] == [
        ("first", 0),
        ("reviewer", 3),
        ("sharer", 2),
    ]


def test_an_action_recorded_with_the_old_per_badge_progress_effect_still_replays(badged):
    """Progress effects stored before they were bookkeeping (and changed shape) are skipped."""
    program = badged(REVIEWER)
    outcome = review(program, "ann", "rv-old")
    old_progress = {
        "type": "advokit.plugins.badges:SetBadgeProgress",
        "fields": {"advocate": "ann", "badge": "reviewer", "count": 1, "recent": [], "read": 0},
    }
    stored = [old_progress, *json.loads(codec.effects_json(outcome.effects))]
    with program.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE advokit_actions SET effects = :effects WHERE key = 'rv-old'"),
            {"effects": json.dumps(stored)},
        )
    again = review(program, "ann", "rv-old")
    assert again.replayed and again.effects == outcome.effects
