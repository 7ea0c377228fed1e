"""What hooks receive: the evaluation context and the apply-time transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import attrs
from sqlalchemy.engine import Connection

from advokit.core.model import Action

if TYPE_CHECKING:
    from advokit.core.program import Program
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

    Attributes:
        connection: a SQLAlchemy connection inside the recording transaction.
            Writes here commit or roll back with the action's other effects.
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

    connection: Connection
    action: Action
    root_key: str
    view: View
    now: datetime
    emit: Callable[[Action], None]
    program: Program
