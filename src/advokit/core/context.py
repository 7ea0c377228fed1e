"""What hooks receive: the evaluation context and the apply-time transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from advokit.core.model import Action

if TYPE_CHECKING:
    from advokit.core.program import Program
    from advokit.core.staging import Staging
    from advokit.core.view import View

__all__ = ["EvaluationContext", "Transaction"]


@attrs.frozen
class EvaluationContext:
    """Read-only context for ``advokit_screen`` and ``advokit_evaluate``.

    Attributes:
        program: the program recording the action.
        now: the time of the recording transaction (from the program clock).
        view: reads of advocates, balances and ledger windows, batched across
            the actions recorded together and including what earlier actions of
            the same batch applied.
        depth: 0 for a recorded action, 1 and more for derived actions.
    """

    program: Program
    now: datetime
    view: View
    depth: int = 0


@attrs.frozen
class Transaction:
    """What ``advokit_apply_effect`` may use to apply a plugin-defined effect.

    Write with :meth:`insert`, :meth:`save`, :meth:`add` and :meth:`update`: the rows are
    staged and written in bulk with the rest of the batch, and taken back if
    the action is held or refused later on (see :mod:`advokit.core.staging`).
    Staged rows are not in the database until the batch flushes: keep your
    own reads right with ``view.remember``.

    Attributes:
        action: the action whose effect is being applied (the recorded one or
            a derived one).
        root_key: the key of the recorded action that started it all; store it
            to explain where your rows came from.
        view: as in :class:`EvaluationContext`.
        now: the transaction time.
        emit: ``emit(action)`` queues a derived action, evaluated in the same
            transaction.
        program: the program recording the action (its ``name`` goes in
            every row a plugin writes: several programs share a database).
    """

    action: Action
    root_key: str
    view: View
    now: datetime
    emit: Callable[[Action], None]
    program: Program
    _staging: Staging
    _connect: Callable[[], Connection]

    @property
    def connection(self) -> Connection:
        """A SQLAlchemy connection inside the recording transaction, for any other write.

        Its writes commit or roll back with the action's other effects. The
        first use in an action opens a savepoint for it, which costs a
        round trip per action: prefer the staging methods on a hot path.
        """
        return self._connect()

    def insert(
        self, table: Table, row: Mapping[str, Any], *, unique: Sequence[str] | None = None
    ) -> None:
        """Stage a new row (every column but an autoincrement id, or with a database default).

        With ``unique`` (the columns of a unique constraint), the row is
        written once: if another transaction inserted the same key first,
        the whole batch runs again and your plugin decides on what is stored.
        """
        self._staging.insert(table, row, unique)

    def save(
        self, table: Table, key: Mapping[str, Any], values: Mapping[str, Any], *, read: int
    ) -> None:
        """Stage a row guarded by its ``version`` column.

        ``read`` is the version your decision was based on (0: there was no
        row). Saved several times in one batch, with the same ``read``, the
        row is written once, as ``read + 1``, if nobody changed it meanwhile;
        otherwise the batch runs again on the newer row. No update is lost.
        """
        self._staging.save(table, key, values, read)

    def add(
        self,
        table: Table,
        key: Mapping[str, Any],
        totals: Mapping[str, int],
        values: Mapping[str, Any] | None = None,
    ) -> None:
        """Stage an addition to a counter row: ``totals`` are added, ``values`` replaced.

        The row is created on first use. Additions commute, so concurrent
        batches never retry for them.
        """
        self._staging.add(table, key, totals, values)

    def update(
        self,
        table: Table,
        key: Mapping[str, Any],
        values: Mapping[str, Any],
        *,
        where_null: Sequence[str] = (),
    ) -> None:
        """Stage new ``values`` for the rows whose ``key`` columns equal the given ones.

        Written after the table's other staged rows, so it also reaches rows
        inserted earlier in the batch. Rows where a ``where_null`` column is
        set already are left alone: of two concurrent revocations, the first
        keeps its time and reason.
        """
        self._staging.update(table, key, values, where_null)
