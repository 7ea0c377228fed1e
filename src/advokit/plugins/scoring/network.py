"""The referral network: who referred whom, how far each advocate's word
travelled, and the super-advocates at the top of the chains.

The graph is built with networkx (``pip install 'advokit[network]'``) from one
SELECT of the referrals (the edges are far fewer than the actions). Referrer
-> friend edges; a friend has one referrer, so the graph is a forest of
referral trees.

Formulas and worked examples: ``docs/metrics-network.md``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa

from advokit.core.errors import ConfigurationError, InvalidValue
from advokit.core.extras import require
from advokit.core.store import queries as q
from advokit.plugins.referrals.model import ReferralState
from advokit.plugins.scoring.model import Score
from advokit.plugins.scoring.scope import Scorer, table_exists

if TYPE_CHECKING:
    import networkx as nx

    from advokit.core.program import Program
    from advokit.plugins.scoring.scope import Scope
    from advokit.plugins.scoring.settings import ScoringSettings

__all__ = [
    "ALPHA",
    "QUERIES",
    "SCORERS",
    "ReferralNetwork",
    "SuperAdvocate",
    "depths",
    "influence",
    "reach",
    "referral_graph",
    "super_advocates",
]

#: PageRank's damping factor: the chance credit keeps flowing up the chain at each step
ALPHA = 0.85


class SuperAdvocate(NamedTuple):
    """A referrer and the weight of their word.

    Attributes:
        advocate: their external id.
        influence: their PageRank on the reversed referral graph (all add up to 1).
        referrals: the friends they referred themselves.
        reach: everyone reached through their chains of referrals.
    """

    advocate: str
    influence: float
    referrals: int
    reach: int


def _networkx() -> Any:
    return require("networkx", "network")


def _has_referrals(program: Program) -> bool:
    from advokit.plugins.referrals.tables import referrals_t

    return table_exists(program, referrals_t)


def _edges(program: Program, *, converted_only: bool, scope: Scope | None = None) -> sa.Select[Any]:
    """The referrals as edges: referrer's and friend's external ids, the state,
    when attributed and converted, and whether the referrer is in the segment."""
    from advokit.plugins.referrals.tables import referrals_t as r

    referrer, friend = q.advocates_t.alias("referrer"), q.advocates_t.alias("friend")
    in_segment: Any = sa.true()
    clauses = [r.c.program == program.name, r.c.state != ReferralState.VOIDED]
    if converted_only:
        clauses.append(r.c.converted_at.is_not(None))
    if scope is not None:
        clauses += scope.during(r.c.attributed_at)
        members = scope.members(r.c.referrer_id)
        in_segment = members[0] if members else sa.true()
    return (
        sa.select(
            referrer.c.external_id,
            friend.c.external_id,
            r.c.state,
            r.c.attributed_at,
            r.c.converted_at,
            sa.case((in_segment, True), else_=False).label("in_segment"),
        )
        .select_from(
            r.join(referrer, referrer.c.id == r.c.referrer_id).join(
                friend, friend.c.id == r.c.friend_id
            )
        )
        .where(*clauses)
    )


def _graph(rows: Any) -> tuple[nx.DiGraph, set[str]]:
    """The graph of edge rows, and the referrers in the segment."""
    graph = _networkx().DiGraph()
    members = set()
    for referrer, friend, state, attributed_at, converted_at, in_segment in rows:
        graph.add_edge(
            referrer, friend, state=state, attributed_at=attributed_at, converted_at=converted_at
        )
        if in_segment:
            members.add(referrer)
    return graph, members


def _check_flag(field: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise InvalidValue(field, value, "True or False")


def _check_count(field: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidValue(field, value, "a positive integer")


def referral_graph(
    program: Program, *, converted_only: bool = False, settings: ScoringSettings
) -> nx.DiGraph:
    """The referral graph: an edge referrer -> friend for each referral not voided
    (only the converted ones with ``converted_only``), nodes named by external id.

    Edges carry ``state``, ``attributed_at`` and ``converted_at``.

    Raises:
        MissingExtra: networkx is not installed (``advokit[network]``).
        ConfigurationError: the referrals plugin is not part of the program.
    """
    _check_flag("referral_graph.converted_only", converted_only)
    _networkx()
    if not _has_referrals(program):
        raise ConfigurationError(
            "Program.plugins",
            sorted(name for name, _ in program.pm.list_name_plugin()),
            "plugins including Referrals (advokit.plugins.referrals), migrated",
        )
    with program.engine.connect() as conn:
        rows = conn.execute(_edges(program, converted_only=converted_only)).all()
    return _graph(rows)[0]


def reach(graph: nx.DiGraph) -> dict[str, int]:
    """How many each node reached: their descendants, everyone referred through
    a chain starting with them."""
    nx = _networkx()
    if nx.is_directed_acyclic_graph(graph) and all(d <= 1 for _, d in graph.in_degree()):
        # a forest: a node reaches its friends and everyone they reach, no one twice
        out: dict[str, int] = {}
        for node in reversed(list(nx.topological_sort(graph))):
            out[node] = sum(1 + out[friend] for friend in graph.successors(node))
        return out
    return {node: len(nx.descendants(graph, node)) for node in graph}


def depths(graph: nx.DiGraph) -> dict[str, int]:
    """Each node's depth: 0 for who was referred by no one, 1 for their friends,
    2 for their friends' friends... (nodes only on a cycle have none)."""
    out = {node: 0 for node, d in graph.in_degree() if d == 0}
    queue = deque(out)
    while queue:
        node = queue.popleft()
        for friend in graph.successors(node):
            if friend not in out:
                out[friend] = out[node] + 1
                queue.append(friend)
    return out


def influence(graph: nx.DiGraph, alpha: float = ALPHA) -> dict[str, float]:
    """PageRank on the reversed graph: credit flows from the referred to their
    referrer, and on up the chain, damped by ``alpha`` at each step."""
    if graph.number_of_nodes() == 0:
        return {}
    require("scipy", "network")  # networkx's PageRank runs on scipy
    return dict(_networkx().pagerank(graph.reverse(copy=False), alpha=alpha))


def _super_advocates(
    graph: nx.DiGraph,
    limit: int,
    among: set[str] | None = None,
    reached: Mapping[str, int] | None = None,
) -> list[SuperAdvocate]:
    ranks = influence(graph)
    reached = reach(graph) if reached is None else reached
    found = [
        SuperAdvocate(node, ranks[node], graph.out_degree(node), reached[node])
        for node in graph
        if graph.out_degree(node) > 0 and (among is None or node in among)
    ]
    found.sort(key=lambda s: (-s.influence, -s.reach, s.advocate))
    return found[:limit]


def super_advocates(
    program: Program,
    *,
    limit: int = 10,
    converted_only: bool = False,
    settings: ScoringSettings,
) -> list[SuperAdvocate]:
    """The ``limit`` referrers of most influence (PageRank on the reversed
    referral graph), most first; ties by reach, then external id.

    Raises:
        MissingExtra: networkx is not installed (``advokit[network]``).
        ConfigurationError: the referrals plugin is not part of the program.
    """
    _check_count("super_advocates.limit", limit)
    graph = referral_graph(program, converted_only=converted_only, settings=settings)
    return _super_advocates(graph, limit)


class ReferralNetwork(Scorer):
    """The mean reach of a referrer: how many customers their word reached,
    directly or through chains of referrals."""

    name = "referral_network"
    description = "mean reach per referrer: customers reached directly or through chains"
    options = {"converted_only": False, "top": 5}
    periodic = False

    def check(self, options: Mapping[str, Any]) -> None:
        _check_flag("referral_network.converted_only", options["converted_only"])
        _check_count("referral_network.top", options["top"])

    def compute(self, scope: Scope) -> Score:
        if not _has_referrals(scope.program):
            return self._empty(scope, "the referrals plugin is not part of the program")
        _networkx()
        edges = _edges(scope.program, converted_only=scope.options["converted_only"], scope=scope)
        graph, members = _graph(scope.rows(edges))
        if not members:
            return self._empty(scope, "no referrals")
        reached, depth = reach(graph), depths(graph)
        referred = [node for node in graph if graph.in_degree(node) > 0]
        chained = sum(1 for node in referred if depth.get(node, 0) >= 2)
        top = _super_advocates(graph, scope.options["top"], members, reached)
        return Score(
            name=self.name,
            value=sum(reached[node] for node in members) / len(members),
            n=len(members),
            unit="advocates",
            counts={"referrers": len(members), "referred": len(referred), "chained": chained},
            inputs=scope.inputs(),
            details={
                "nodes": graph.number_of_nodes(),
                "edges": graph.number_of_edges(),
                "max_depth": max(depth.values(), default=0),
                "chained_share": 100 * chained / len(referred),
                "super_advocates": [s._asdict() for s in top],
            },
        )

    def _empty(self, scope: Scope, missing: str) -> Score:
        return Score(
            name=self.name,
            value=None,
            n=0,
            unit="advocates",
            counts={"referrers": 0, "referred": 0, "chained": 0},
            inputs=scope.inputs(),
            missing=(missing,),
        )


SCORERS = (ReferralNetwork,)
QUERIES = (referral_graph, super_advocates)
