"""What plugins read while deciding: a batched, cached view of the program's state.

The first read of a kind (say, points earned today) for one advocate loads it
for every advocate of the batch in one statement, so recording 10,000 actions
costs a handful of queries, not 10,000 x N. Every read also counts what earlier
actions of the same batch staged, so a daily cap holds inside a batch too.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.engine import Connection

from advokit.core.errors import UnknownAdvocate
from advokit.core.ledger import Account, Work
from advokit.core.model import Action, Advocate
from advokit.core.store import queries as q

__all__ = ["View"]

_MISSING = object()


def _restore(cached: dict[Any, Any], key: Any, before: Any) -> None:
    """Undo a journaled set: ``cached[key]`` back to ``before`` (or gone)."""
    if before is _MISSING:
        cached.pop(key, None)
    else:
        cached[key] = before


class View:
    """Read-only access to advocates, balances and ledger windows."""

    def __init__(self, work: Work, ids: dict[str, int], actions: Sequence[Action] = ()) -> None:
        self._work = work
        self._ids = ids  # external id -> row id, for the batch and anyone looked up since
        self._external = work.external_ids  # shared: the ledger names advocates in errors
        self._external.update((row_id, ext) for ext, row_id in ids.items())
        self._batch = list(ids.values())
        self._batch_set = set(self._batch)
        self._actions = tuple(actions)
        self._cache: dict[Hashable, dict[int, Any]] = {}
        self._advocates: dict[int, Advocate] = {}

    # -- identities

    def advocate_id(self, external_id: str) -> int:
        """The row id of an enrolled advocate; raises UnknownAdvocate otherwise."""
        row_id = self._ids.get(external_id)
        if row_id is None:
            found = q.advocate_ids(self._work.conn, self._work.program, [external_id])
            if external_id not in found:
                raise UnknownAdvocate(external_id, self._work.program)
            row_id = self._ids[external_id] = found[external_id]
            self._external[row_id] = external_id
        return row_id

    def external_id(self, advocate_id: int) -> str:
        return self._external[advocate_id]

    # -- the batch

    @property
    def batch(self) -> tuple[Action, ...]:
        """The actions this transaction records, for a plugin that reads ahead for them."""
        return self._actions

    def include(self, advocates: Iterable[str]) -> None:
        """Read these advocates together with the batch's, from now on (unknown ones ignored).

        The batched reads (``memo``, profiles, balances...) cover the
        advocates of the actions recorded. A plugin that will read about
        others (a signup's referrer) names them first, so that each read
        is one statement for all of them rather than one per action.
        """
        advocates = list(advocates)
        missing = [a for a in set(advocates) if a not in self._ids]
        if missing:
            found = q.advocate_ids(self._work.conn, self._work.program, missing)
            self._ids.update(found)
            self._external.update((row_id, ext) for ext, row_id in found.items())
        for external_id in advocates:
            row_id = self._ids.get(external_id)
            if row_id is not None and row_id not in self._batch_set:
                self._batch.append(row_id)
                self._batch_set.add(row_id)

    def _load(
        self, shape: Hashable, advocate_id: int, loader: Callable[[list[int]], dict[int, Any]]
    ) -> Any:
        cached = self._cache.setdefault(shape, {})
        if advocate_id not in cached:
            if advocate_id in self._batch_set:
                ids = [a for a in self._batch if a not in cached]
            else:
                ids = [advocate_id]
            found = loader(ids)
            for a in ids:
                cached[a] = found.get(a)
        return cached[advocate_id]

    # -- plugins' own reads

    def memo(
        self,
        shape: Hashable,
        advocate: str,
        load: Callable[[Connection, list[int]], Mapping[int, Any]],
    ) -> Any:
        """A plugin's own per-advocate read, batched and cached like the built-in ones.

        The first call for ``shape`` with an advocate of the batch calls
        ``load(connection, row_ids)`` once for every advocate of the batch not
        read yet; it returns ``{row_id: value}`` (advocates it leaves out read
        as None). Later calls answer from the cache. Name shapes after your
        plugin (``("tiers", "state")``) so that plugins do not share them. The
        cache does not see your writes: after writing what a shape was read
        from, call :meth:`forget`.
        """
        row_id = self._ids.get(advocate)
        cached = self._cache.get(shape)
        if cached is not None and row_id in cached:  # the common case, kept cheap
            return cached[row_id]
        row_id = self.advocate_id(advocate)
        return self._load(shape, row_id, lambda ids: load(self._work.conn, ids))

    def lookup_many(
        self,
        shape: Hashable,
        keys: Iterable[Hashable],
        load: Callable[[Connection, list[Any]], Mapping[Any, Any]],
    ) -> None:
        """Read ahead what :meth:`lookup` will be asked for ``keys``, in one call.

        ``load(connection, keys)`` returns ``{key: value}`` for the keys not
        cached yet; keys it leaves out read as None.
        """
        cached = self._cache.setdefault(("lookup", shape), {})
        missing = [key for key in dict.fromkeys(keys) if key not in cached]
        if missing:
            found = load(self._work.conn, missing)
            for key in missing:
                cached[key] = found.get(key)

    def lookup(self, shape: Hashable, key: Hashable, load: Callable[[Connection, Any], Any]) -> Any:
        """A plugin's own read of one value that is not an advocate's (a code, an order).

        ``load(connection, key)`` runs on the recording transaction's
        connection the first time ``key`` is asked for; the value is cached
        for the rest of the transaction. Prefer :meth:`memo` for what each
        advocate of a batch has: it reads them all in one statement.
        """
        cached = self._cache.setdefault(("lookup", shape), {})
        if key not in cached:
            cached[key] = load(self._work.conn, key)
        return cached[key]

    def remember_lookup(self, shape: Hashable, key: Hashable, value: Any) -> None:
        """Set what :meth:`lookup` answers for ``key`` (what you just staged), journaled."""
        self._journaled_set(self._cache.setdefault(("lookup", shape), {}), key, value)

    def remember(self, shape: Hashable, advocate: str, value: Any) -> None:
        """Set the cached ``shape`` of one advocate to ``value`` (what you just staged).

        Journaled with the transaction's other changes: if the action is held
        or refused after this, the cache goes back to what it was.
        """
        self._journaled_set(self._cache.setdefault(shape, {}), self.advocate_id(advocate), value)

    def _journaled_set(self, cached: dict[Any, Any], key: Any, value: Any) -> None:
        before = cached.get(key, _MISSING)
        cached[key] = value
        # a partial, not a closure: a batch keeps thousands; fewer objects, less GC
        self._work.journal(partial(_restore, cached, key, before))

    def forget(self, shape: Hashable, advocate: str) -> None:
        """Drop the cached ``shape`` of one advocate; the next :meth:`memo` reads it again."""
        self._cache.get(shape, {}).pop(self.advocate_id(advocate), None)

    # -- reads

    def advocate(self, external_id: str) -> Advocate:
        """The advocate's profile (identity, locale, time zone, consent, attributes)."""
        row_id = self.advocate_id(external_id)
        return self._load(  # type: ignore[no-any-return]
            "advocate", row_id, lambda ids: q.advocates(self._work.conn, ids)
        )

    def timezone(self, advocate: str) -> str:
        """The advocate's IANA time zone, read alone: cheaper than :meth:`advocate` for it."""
        row_id = self.advocate_id(advocate)
        known = self._cache.get("advocate", {}).get(row_id)
        if known is not None:
            return known.timezone  # type: ignore[no-any-return]
        return self._load(  # type: ignore[no-any-return]
            "timezone", row_id, lambda ids: q.timezones(self._work.conn, ids)
        )

    def balance(self, advocate: str, account: str = "points") -> int:
        """The current balance, including what this transaction staged."""
        return self._account(advocate, account).balance

    def lifetime_earned(self, advocate: str, account: str = "points") -> int:
        """Everything ever earned in ``account``: awards less their reversals.

        Spending and expiry never lower it. Read from the balance row (batched
        with the balances), not from the ledger, and including what this
        transaction staged.
        """
        return self._account(advocate, account).earned

    def _account(self, advocate: str, account: str) -> Account:
        """The advocate's staged account, its stored row read (batched) first if need be."""
        row_id = self.advocate_id(advocate)
        state = self._work.account(row_id, account)
        if not state.loaded:
            ids = self._batch if row_id in self._batch_set else [row_id]
            self._work.load_balances(ids, account)
        return state

    def earned(
        self,
        advocate: str,
        account: str = "points",
        *,
        since: datetime,
        until: datetime,
        reasons: frozenset[str] | None = None,
        net: bool = False,
    ) -> int:
        """Points awarded with ``since <= effective time < until``.

        ``reasons`` restricts the sum to some reason codes (rule awards use the
        action kind as their reason). ``net`` subtracts reversals made in the
        window (a refunded purchase's points no longer count as earned);
        spending and expiry never lower what was earned.
        """
        row_id = self.advocate_id(advocate)
        shape = ("earned", account, since, until, reasons, net)
        stored = (
            self._load(
                shape,
                row_id,
                lambda ids: q.earned_between(
                    self._work.conn, ids, account, since, until, reasons, net=net
                ),
            )
            or 0
        )
        types = ("award", "reverse") if net else ("award",)
        staged = sum(
            e["delta"]
            for e in self._work.entries_by_advocate.get(row_id, ())
            if e["type"] in types
            and e["account"] == account
            and since <= e["effective_at"] < until
            and (reasons is None or e["reason"] in reasons)
        )
        return int(stored) + staged

    def last_award_at(
        self, advocate: str, account: str = "points", *, reason: str
    ) -> datetime | None:
        """When the advocate was last awarded points for ``reason``, if ever."""
        row_id = self.advocate_id(advocate)
        stored = self._load(
            ("last_award", account, reason),
            row_id,
            lambda ids: q.last_award_at(self._work.conn, ids, account, reason),
        )
        staged = [
            e["effective_at"]
            for e in self._work.entries_by_advocate.get(row_id, ())
            if e["type"] == "award" and e["account"] == account and e["reason"] == reason
        ]
        candidates = [t for t in [stored, *staged] if t is not None]
        return max(candidates) if candidates else None

    def tags(self, advocate: str) -> frozenset[str]:
        """The advocate's segment labels."""
        row_id = self.advocate_id(advocate)
        stored = set(self._load("tags", row_id, lambda ids: q.tags(self._work.conn, ids)) or ())
        for (a, tag), key in self._work.tags.items():
            if a == row_id:
                if key is None:
                    stored.discard(tag)
                else:
                    stored.add(tag)
        return frozenset(stored)
