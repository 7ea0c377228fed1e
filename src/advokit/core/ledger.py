"""The points ledger inside one recording transaction.

All effects of a batch are applied to in-memory account state first and written
by :meth:`Work.flush` in a few bulk statements. Each action's changes are
journaled so that an action that fails a guard (not enough points) is undone
without touching the others: effects of one action apply together or not at all.

Ledger rules:

* Entries are append-only; corrections are new entries (``reverse``).
* An award with an expiry is a *lot*; spending consumes lots soonest expiry
  first, then the pool of non-expiring points.
* Balances (current and lifetime earned) are derived in the same transaction
  and can be rebuilt from the entries.
* An account is read for a decision (deduct, reverse) only under its row lock
  on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already makes the writer alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from advokit.core.errors import InsufficientBalance
from advokit.core.model import AwardPoints, DeductPoints, ReversePoints
from advokit.core.staging import Staging
from advokit.core.store import driver
from advokit.core.store import queries as q
from advokit.core.store.driver import dialect_insert

__all__ = ["ACTION_JSON_COLUMNS", "Account", "Lot", "Work"]

#: Columns of ``Work.action_rows`` that hold JSON text already (the engine encodes
#: ``data`` once for both the fingerprint and the row).
ACTION_JSON_COLUMNS = frozenset({"data", "reasons", "effects"})


class Lot:
    __slots__ = ("action_key", "amount", "expires_at", "id", "new", "remaining")

    def __init__(
        self, id: str, remaining: int, expires_at: datetime, action_key: str | None, new: bool
    ) -> None:
        self.id = id
        self.amount = remaining
        self.remaining = remaining
        self.expires_at = expires_at
        self.action_key = action_key
        self.new = new


class Account:
    """One advocate's account as this transaction sees it."""

    __slots__ = (
        "account",
        "advocate_id",
        "base_balance",
        "base_earned",
        "delta",
        "earned_delta",
        "loaded",
        "locked",
        "lots",
        "unloaded_lots",
    )

    def __init__(self, advocate_id: int, account: str) -> None:
        self.advocate_id = advocate_id
        self.account = account
        self.base_balance = 0
        self.base_earned = 0
        self.loaded = False
        self.locked = False
        self.delta = 0
        self.earned_delta = 0
        self.lots: list[Lot] | None = None
        # lots created before the account's lots were read from the database
        self.unloaded_lots: list[Lot] = []

    @property
    def balance(self) -> int:
        return self.base_balance + self.delta

    @property
    def earned(self) -> int:
        return self.base_earned + self.earned_delta


class Work:
    """The staged writes of one recording transaction."""

    def __init__(
        self,
        conn: Connection,
        program: str,
        now: datetime,
        external_ids: dict[int, str],
    ) -> None:
        self.conn = conn
        self.program = program
        self.now = now
        self.external_ids = external_ids  # row id -> external id, kept by the View
        self.entries: list[dict[str, Any]] = []
        self.entries_by_advocate: dict[int, list[dict[str, Any]]] = {}
        self.accounts: dict[tuple[int, str], Account] = {}
        self.new_lots: dict[str, tuple[int, str, Lot]] = {}
        self.dirty_lots: set[str] = set()
        self.tags: dict[tuple[int, str], str | None] = {}  # value None: removed
        self.action_rows: list[dict[str, Any]] = []
        self._undo: list[Callable[[], None]] = []
        self.staging = Staging(self._undo.append)  # plugins' rows (no cycle through self)

    # -- journal

    def journal(self, undo: Callable[[], None]) -> None:
        """Remember how to take back a change made to the staged state."""
        self._undo.append(undo)

    def checkpoint(self) -> int:
        return len(self._undo)

    def rollback(self, checkpoint: int) -> None:
        while len(self._undo) > checkpoint:
            self._undo.pop()()

    def keep(self, checkpoint: int) -> None:
        """Keep what was staged since ``checkpoint`` for good: its journal is let go.

        Nothing rolls back further than the action being applied, and the
        journal's closures would otherwise live (and be scanned by the
        garbage collector) until the batch ends.
        """
        del self._undo[checkpoint:]

    # -- accounts

    def account(self, advocate_id: int, account: str) -> Account:
        key = (advocate_id, account)
        state = self.accounts.get(key)
        if state is None:
            state = self.accounts[key] = Account(advocate_id, account)
        return state

    def load_balances(self, advocate_ids: list[int], account: str) -> None:
        """Read the stored balances of accounts not read yet, in one statement."""
        wanted = [a for a in advocate_ids if not self.account(a, account).loaded]
        if not wanted:
            return
        self.seed_balances(account, wanted, q.balances(self.conn, wanted, account))

    def seed_balances(
        self, account: str, advocate_ids: Iterable[int], stored: dict[int, tuple[int, int]]
    ) -> None:
        """Take balances read by the caller (missing: no row yet, so 0) for accounts not read."""
        for advocate_id in advocate_ids:
            state = self.account(advocate_id, account)
            if not state.loaded:
                state.base_balance, state.base_earned = stored.get(advocate_id, (0, 0))
                state.loaded = True

    def account_for_update(self, advocate_id: int, account: str) -> Account:
        """The account with its balance and open lots read under its row lock."""
        state = self.account(advocate_id, account)
        if state.locked:
            return state
        stored = q.balances(self.conn, [advocate_id], account, lock=True)
        state.base_balance, state.base_earned = stored.get(advocate_id, (0, 0))
        state.loaded = state.locked = True
        lots = [
            Lot(lot_id, remaining, expires_at, action_key, new=False)
            for lot_id, remaining, expires_at, action_key in q.lots(
                self.conn, advocate_id, account, lock=True
            )
        ]
        lots.extend(state.unloaded_lots)
        state.unloaded_lots = []
        lots.sort(key=lambda lot: lot.expires_at)
        state.lots = lots
        return state

    # -- entries

    def _post(
        self,
        state: Account,
        type_: str,
        delta: int,
        reason: str,
        *,
        action_key: str | None,
        effective_at: datetime,
        related: str | None = None,
        lot_id: str | None = None,
        expires_at: datetime | None = None,
        memo: str | None = None,
        earned: int = 0,
    ) -> None:
        entry = {
            "program": self.program,
            "advocate_id": state.advocate_id,
            "account": state.account,
            "type": type_,
            "delta": delta,
            "reason": reason,
            "action_key": action_key,
            "related_action_key": related,
            "lot_id": lot_id,
            "expires_at": expires_at,
            "effective_at": effective_at,
            "created_at": self.now,
            "memo": memo,
        }
        self.entries.append(entry)
        per_advocate = self.entries_by_advocate.setdefault(state.advocate_id, [])
        per_advocate.append(entry)
        state.delta += delta
        state.earned_delta += earned

        def undo() -> None:
            self.entries.pop()
            per_advocate.pop()
            state.delta -= delta
            state.earned_delta -= earned

        self._undo.append(undo)

    def _take_from_lot(self, lot: Lot, amount: int) -> None:
        lot.remaining -= amount
        if not lot.new:
            self.dirty_lots.add(lot.id)

        def undo() -> None:
            lot.remaining += amount

        self._undo.append(undo)

    # -- operations

    def award(
        self, advocate_id: int, effect: AwardPoints, action_key: str, effective_at: datetime
    ) -> None:
        state = self.account(advocate_id, effect.account)
        lot_id = None
        if effect.expires_at is not None:
            lot = Lot(uuid.uuid4().hex, effect.points, effect.expires_at, action_key, new=True)
            lot_id = lot.id
            self._add_lot(state, lot)
        self._post(
            state,
            "award",
            effect.points,
            effect.reason,
            action_key=action_key,
            effective_at=effective_at,
            lot_id=lot_id,
            expires_at=effect.expires_at,
            memo=effect.memo,
            earned=effect.points,
        )

    def _add_lot(self, state: Account, lot: Lot) -> None:
        target = state.unloaded_lots if state.lots is None else state.lots
        target.append(lot)
        if state.lots is not None:
            state.lots.sort(key=lambda item: item.expires_at)
        self.new_lots[lot.id] = (state.advocate_id, state.account, lot)

        def undo() -> None:
            target.remove(lot)
            del self.new_lots[lot.id]

        self._undo.append(undo)

    def deduct(
        self, advocate_id: int, effect: DeductPoints, action_key: str, effective_at: datetime
    ) -> None:
        state = self.account_for_update(advocate_id, effect.account)
        self.expire_due(state)
        if state.balance < effect.points and not effect.allow_negative:
            raise InsufficientBalance(
                self.external_ids[advocate_id], effect.account, state.balance, effect.points
            )
        self._consume(
            state,
            effect.points,
            "deduct",
            effect.reason,
            action_key=action_key,
            effective_at=effective_at,
            memo=effect.memo,
        )

    def reverse(
        self, advocate_id: int, effect: ReversePoints, action_key: str, effective_at: datetime
    ) -> int:
        """Take back what ``effect.action_key`` awarded; returns the points reversed."""
        state = self.account_for_update(advocate_id, effect.account)
        self.expire_due(state)
        awarded, reversed_ = q.reversal_totals(
            self.conn, self.program, advocate_id, effect.account, effect.action_key
        )
        for entry in self.entries_by_advocate.get(advocate_id, ()):
            if entry["account"] != effect.account:
                continue
            if entry["type"] == "award" and entry["action_key"] == effect.action_key:
                awarded += entry["delta"]
            elif entry["type"] == "reverse" and entry["related_action_key"] == effect.action_key:
                reversed_ -= entry["delta"]
        want = awarded - reversed_
        if effect.points is not None:
            want = min(want, effect.points)
        if effect.clawback == "cap":
            want = min(want, max(state.balance, 0))
        if want <= 0:
            return 0
        own_lots = [lot for lot in state.lots or () if lot.action_key == effect.action_key]
        self._consume(
            state,
            want,
            "reverse",
            effect.reason,
            action_key=action_key,
            effective_at=effective_at,
            related=effect.action_key,
            memo=effect.memo,
            first=own_lots,
            earned=True,
        )
        return want

    def _consume(
        self,
        state: Account,
        amount: int,
        type_: str,
        reason: str,
        *,
        action_key: str | None,
        effective_at: datetime,
        related: str | None = None,
        memo: str | None = None,
        first: list[Lot] | None = None,
        earned: bool = False,
    ) -> None:
        for lot in (first or []) + (state.lots or []):
            if amount == 0:
                break
            if lot.remaining <= 0:
                continue
            take = min(lot.remaining, amount)
            self._take_from_lot(lot, take)
            self._post(
                state,
                type_,
                -take,
                reason,
                action_key=action_key,
                effective_at=effective_at,
                related=related,
                lot_id=lot.id,
                memo=memo,
                earned=-take if earned else 0,
            )
            amount -= take
        if amount:
            self._post(
                state,
                type_,
                -amount,
                reason,
                action_key=action_key,
                effective_at=effective_at,
                related=related,
                memo=memo,
                earned=-amount if earned else 0,
            )

    def expire_due(self, state: Account) -> int:
        """Expire the account's lots whose time has come; returns the points expired."""
        expired = 0
        for lot in state.lots or ():
            if lot.expires_at > self.now:
                break
            if lot.remaining > 0:
                amount = lot.remaining
                self._take_from_lot(lot, amount)
                self._post(
                    state,
                    "expire",
                    -amount,
                    "points.expired",
                    action_key=None,
                    effective_at=lot.expires_at,
                    related=lot.action_key,
                    lot_id=lot.id,
                )
                expired += amount
        return expired

    # -- tags

    def tag(self, advocate_id: int, tag: str, action_key: str | None, remove: bool) -> None:
        key = (advocate_id, tag)
        had = key in self.tags
        before = self.tags.get(key)
        self.tags[key] = None if remove else (action_key or "")

        def undo() -> None:
            if had:
                self.tags[key] = before
            else:
                del self.tags[key]

        self._undo.append(undo)

    # -- writing

    def flush(self) -> int:
        """Write everything staged; returns how many action rows were inserted."""
        conn = self.conn
        inserted = 0
        times: dict[Any, Any] = {}  # datetimes converted for the database, shared
        if self.action_rows:
            # ON CONFLICT DO NOTHING: the unique key decides; the caller compares
            # the count with what it meant to insert
            insert = driver.bulk_insert(
                conn, q.actions_t, ignore_conflicts=True, serialized=ACTION_JSON_COLUMNS
            )
            inserted = insert.run(conn, self.action_rows, times)
        if self.entries:
            driver.bulk_insert(conn, q.entries_t).run(conn, self.entries, times)
        if self.new_lots:
            conn.execute(
                q.lots_t.insert(),
                [
                    {
                        "id": lot.id,
                        "program": self.program,
                        "advocate_id": advocate_id,
                        "account": account,
                        "amount": lot.amount,
                        "remaining": lot.remaining,
                        "expires_at": lot.expires_at,
                        "action_key": lot.action_key,
                    }
                    for advocate_id, account, lot in self.new_lots.values()
                ],
            )
        if self.dirty_lots:
            lots_by_id = {
                lot.id: lot
                for state in self.accounts.values()
                for lot in state.lots or ()
                if lot.id in self.dirty_lots
            }
            conn.execute(
                q.lots_t.update()
                .where(q.lots_t.c.id == sa.bindparam("lot_id"))
                .values(remaining=sa.bindparam("new_remaining")),
                [{"lot_id": i, "new_remaining": lots_by_id[i].remaining} for i in lots_by_id],
            )
        self._flush_balances()
        self._flush_tags()
        if self.staging:
            self.staging.flush(conn, times)
        return inserted

    def _flush_balances(self) -> None:
        rows = [
            (state.advocate_id, state.account, self.program, state.delta, state.earned_delta)
            for _, state in sorted(self.accounts.items())  # one lock order: no deadlocks
            if state.delta or state.earned_delta
        ]
        if rows:
            driver.upsert_balances(self.conn, rows)

    def _flush_tags(self) -> None:
        added = [
            {
                "advocate_id": a,
                "tag": tag,
                "program": self.program,
                "action_key": key or None,
                "tagged_at": self.now,
            }
            for (a, tag), key in self.tags.items()
            if key is not None
        ]
        removed = [(a, tag) for (a, tag), key in self.tags.items() if key is None]
        t = q.tags_t
        if added:
            self.conn.execute(
                dialect_insert(self.conn, t).on_conflict_do_nothing(
                    index_elements=["advocate_id", "tag"]
                ),
                added,
            )
        for advocate_id, tag in removed:
            self.conn.execute(t.delete().where(t.c.advocate_id == advocate_id, t.c.tag == tag))
