"""The referral network: the graph, reach, depth, influence and the super-advocates.

Referrals are inserted in ``referrals_referrals`` directly; the figures are
checked against a walk of the raw rows written here, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import networkx as nx
import pytest
import sqlalchemy as sa

from advokit import Advocate
from advokit.core.errors import ConfigurationError, InvalidValue
from advokit.core.extras import MissingExtra
from advokit.core.store import queries as q
from advokit.plugins.referrals import Referrals, referrals_t
from advokit.plugins.scoring import Segment, attribute
from advokit.plugins.scoring.network import depths, reach

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STATES = ("signed_up", "pending", "rewarded", "voided")


@pytest.fixture
def program(make_program, database_url):
    return make_program(database_url=database_url, plugins=[Referrals()])


def _enroll(program, names, plans=None):
    plans = plans or {}
    program.enroll_many(
        Advocate(external_id=name, attributes={"plan": plans.get(name, "free")}) for name in names
    )
    a = q.advocates_t
    with program.engine.connect() as conn:
        rows = conn.execute(sa.select(a.c.external_id, a.c.id).where(a.c.program == program.name))
        return dict(rows.all())


def _refer(program, ids, referrals):
    """Insert ``(referrer, friend, state, attributed_at, converted)`` rows."""
    rows = [
        {
            "friend_id": ids[friend],
            "program": program.name,
            "version": 1,
            "referrer_id": ids[referrer],
            "code": None,
            "source": "code",
            "state": state,
            "attributed_at": at,
            "converted_at": at + timedelta(days=3) if converted else None,
        }
        for referrer, friend, state, at, converted in referrals
    ]
    with program.engine.begin() as conn:
        conn.execute(referrals_t.insert(), rows)


# --------------------------------------------------------------------------- a hand-made tree

TREE = [("A", "B"), ("A", "C"), ("B", "D"), ("D", "E")]


@pytest.fixture
def tree(program):
    ids = _enroll(program, "ABCDEF")
    _refer(program, ids, [(r, f, "rewarded", T0, True) for r, f in TREE])
    return program


def test_a_hand_made_tree_gives_its_reach_depths_and_influence(tree):
    graph = tree.referral_graph()
    assert sorted(graph.edges) == sorted(TREE)
    assert graph.edges["A", "B"]["state"] == "rewarded"
    assert reach(graph) == {"A": 4, "B": 2, "C": 0, "D": 1, "E": 0}
    assert depths(graph) == {"A": 0, "B": 1, "C": 1, "D": 2, "E": 3}

    top = tree.super_advocates()
    assert [s.advocate for s in top] == ["A", "B", "D"]
    assert top[0] == ("A", pytest.approx(top[0].influence), 2, 4)
    assert tree.super_advocates(limit=1) == top[:1]
    # influence is networkx's PageRank of the reversed graph
    ranks = nx.pagerank(graph.reverse(), alpha=0.85)
    assert [s.influence for s in top] == pytest.approx([ranks[s.advocate] for s in top], abs=1e-5)

    score = tree.score("referral_network")
    assert score.value == pytest.approx(7 / 3)  # (4 + 2 + 1) / 3 referrers
    assert score.n == 3
    assert dict(score.counts) == {"referrers": 3, "referred": 4, "chained": 2}
    assert score.details["nodes"] == 5 and score.details["edges"] == 4
    assert score.details["max_depth"] == 3
    assert score.details["chained_share"] == 50.0
    assert [s["advocate"] for s in score.details["super_advocates"]] == ["A", "B", "D"]
    assert score.to_json()["details"]["super_advocates"][0]["reach"] == 4


def test_voided_referrals_are_left_out_and_converted_only_keeps_the_converted(program):
    ids = _enroll(program, "ABCD")
    _refer(
        program,
        ids,
        [
            ("A", "B", "rewarded", T0, True),
            ("A", "C", "signed_up", T0, False),
            ("B", "D", "voided", T0, True),
        ],
    )
    assert sorted(program.referral_graph().edges) == [("A", "B"), ("A", "C")]
    assert sorted(program.referral_graph(converted_only=True).edges) == [("A", "B")]
    assert program.score("referral_network", converted_only=True).value == 1.0


# --------------------------------------------------------------------------- generated data


def _generate(seed=7, people=250):
    rng = random.Random(seed)
    names = [f"p{i:03d}" for i in range(people)]
    plans = {name: rng.choice(["free", "pro"]) for name in names}
    referrals = []
    for i in range(1, people):
        if rng.random() < 0.75:
            # recent advocates refer more often: chains grow deep
            referrer = names[max(0, i - 1 - int(rng.expovariate(0.15)))]
            state = rng.choice(STATES)
            at = T0 + timedelta(days=rng.randrange(150), hours=rng.randrange(24))
            converted = state in ("pending", "rewarded") or (
                state == "voided" and rng.random() < 0.5
            )
            referrals.append((referrer, names[i], state, at, converted))
    return names, plans, referrals


def _expected(referrals, *, keep, members=None):
    """Reach by DFS, depth by walking up to the root, over the kept raw rows."""
    children, parent = defaultdict(list), {}
    for referrer, friend, *_ in filter(keep, referrals):
        children[referrer].append(friend)
        parent[friend] = referrer

    def descendants(node):
        found, stack = set(), list(children.get(node, ()))
        while stack:
            friend = stack.pop()
            if friend not in found:
                found.add(friend)
                stack.extend(children.get(friend, ()))
        return len(found)

    def depth(node):
        return 0 if node not in parent else 1 + depth(parent[node])

    referrers = [r for r in children if members is None or r in members]
    reach = {r: descendants(r) for r in children}
    depths = {friend: depth(friend) for friend in parent}
    return {
        "value": sum(reach[r] for r in referrers) / len(referrers),
        "n": len(referrers),
        "referred": len(parent),
        "chained": sum(1 for d in depths.values() if d >= 2),
        "max_depth": max(depths.values()),
        "nodes": len(set(parent) | set(children)),
        "reach": reach,
        "depths": {**{r: 0 for r in children if r not in parent}, **depths},
    }


@pytest.mark.parametrize("converted_only", [False, True])
def test_reach_on_generated_referrals_matches_a_walk_of_the_raw_rows(program, converted_only):
    names, plans, referrals = _generate()
    ids = _enroll(program, names, plans)
    _refer(program, ids, referrals)

    def kept(row):
        return row[2] != "voided" and (row[4] or not converted_only)

    expected = _expected(referrals, keep=kept)
    score = program.score("referral_network", converted_only=converted_only, top=3)
    assert score.value == pytest.approx(expected["value"])
    assert score.n == expected["n"]
    assert dict(score.counts) == {
        "referrers": expected["n"],
        "referred": expected["referred"],
        "chained": expected["chained"],
    }
    assert score.details["max_depth"] == expected["max_depth"] >= 3
    assert score.details["nodes"] == expected["nodes"]
    assert score.details["chained_share"] == pytest.approx(
        100 * expected["chained"] / expected["referred"]
    )

    # every node's reach and depth, from the graph the program builds
    built = program.referral_graph(converted_only=converted_only)
    assert {node: r for node, r in reach(built).items() if r} == expected["reach"]
    assert depths(built) == expected["depths"]

    # the super-advocates: PageRank as networkx computes it, over a graph built here
    graph = nx.DiGraph([(r, f) for r, f, *_ in filter(kept, referrals)])
    ranks = nx.pagerank(graph.reverse(), alpha=0.85, tol=1e-10)
    top = program.super_advocates(limit=5, converted_only=converted_only)
    order = sorted(expected["reach"], key=lambda r: (-ranks[r], -expected["reach"][r], r))[:5]
    assert [s.advocate for s in top] == order
    for s in top:
        assert s.influence == pytest.approx(ranks[s.advocate], abs=1e-4)
        assert s.reach == expected["reach"][s.advocate]
        assert s.referrals == graph.out_degree(s.advocate)
    assert [s["advocate"] for s in score.details["super_advocates"]] == order[:3]


def test_window_and_segment_pick_the_referrals_and_the_referrers(program):
    names, plans, referrals = _generate(seed=11, people=200)
    ids = _enroll(program, names, plans)
    _refer(program, ids, referrals)
    start, end = T0 + timedelta(days=30), T0 + timedelta(days=120)
    pro = {name for name, plan in plans.items() if plan == "pro"}

    def kept(row):
        return row[2] != "voided" and start <= row[3] < end

    expected = _expected(referrals, keep=kept, members=pro)
    score = program.score(
        "referral_network", window=(start, end), segment=Segment("pro", attribute("plan", "pro"))
    )
    assert score.value == pytest.approx(expected["value"])
    assert score.n == expected["n"]
    assert score.counts["referred"] == expected["referred"]  # the whole graph's
    assert all(s["advocate"] in pro for s in score.details["super_advocates"])


# --------------------------------------------------------------------------- edges


def test_no_referrals_is_an_empty_score(program):
    score = program.score("referral_network")
    assert (score.value, score.n, score.missing) == (None, 0, ("no referrals",))
    assert program.super_advocates() == []
    assert program.referral_graph().number_of_nodes() == 0


def test_without_the_referrals_plugin_the_score_says_what_is_missing(make_program):
    program = make_program()
    score = program.score("referral_network")
    assert score.n == 0 and score.value is None
    assert score.missing == ("the referrals plugin is not part of the program",)
    with pytest.raises(ConfigurationError, match="Referrals"):
        program.referral_graph()


@pytest.mark.parametrize(
    ("options", "field", "accepted"),
    [
        ({"top": 0}, "referral_network.top", "a positive integer"),
        ({"top": "5"}, "referral_network.top", "a positive integer"),
        ({"converted_only": "yes"}, "referral_network.converted_only", "True or False"),
        ({"by": "month"}, "by", "not computed per period"),
    ],
)
def test_bad_options_name_the_field_value_and_what_is_accepted(
    make_program, options, field, accepted
):
    program = make_program(plugins=[Referrals()])
    with pytest.raises(InvalidValue) as caught:
        program.score("referral_network", **options)
    assert caught.value.field == field and accepted in caught.value.accepted


def test_bad_query_arguments_are_refused(make_program):
    program = make_program(plugins=[Referrals()])
    with pytest.raises(InvalidValue, match=r"super_advocates.limit=0 .* a positive integer"):
        program.super_advocates(limit=0)
    with pytest.raises(InvalidValue, match="referral_graph.converted_only"):
        program.referral_graph(converted_only=1)


def test_without_networkx_the_error_says_what_to_install(make_program, monkeypatch):
    program = make_program(plugins=[Referrals()])
    monkeypatch.setitem(sys.modules, "networkx", None)
    for ask in (program.referral_graph, program.super_advocates):
        with pytest.raises(MissingExtra, match=r"pip install 'advokit\[network\]'") as caught:
            ask()
        assert (caught.value.module, caught.value.extra) == ("networkx", "network")
        assert isinstance(caught.value, ImportError)
    with pytest.raises(MissingExtra):
        program.score("referral_network")
