"""The fulfilment worker's round: due fulfilments first, then due reversals."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from advokit.core import validation as v
from advokit.core.errors import ConfigurationError
from advokit.core.store import database
from advokit.plugins.rewards.fulfilment import (
    Claim,
    Fulfilment,
    FulfilmentReport,
    Tried,
    call,
    claim_due,
    observe,
    settle,
)
from advokit.plugins.rewards.model import IssuedReward
from advokit.plugins.rewards.reversal import claim_reversals, settle_reversals

if TYPE_CHECKING:
    from advokit.core.program import Program

__all__ = ["fulfil_pending"]

Claimer = Callable[
    ["Program", Fulfilment, Sequence[str] | None, int],
    tuple[list[Claim], list[tuple[IssuedReward, BaseException]]],
]
Settler = Callable[["Program", Fulfilment, Sequence[Tried]], FulfilmentReport]


def fulfil_pending(
    program: Program,
    settings: Fulfilment,
    *,
    limit: int | None = None,
    threads: Executor | None = None,
) -> FulfilmentReport:
    """Claim, call and settle due rewards until none is due (or ``limit`` were claimed,
    for each): fulfilments, then the reverse operations of reversed rewards.

    ``threads`` (the plugin's kept pool, None when ``settings.concurrency`` is 1)
    calls the fulfillers; kept from one call to the next, its threads keep
    their HTTP connections open.
    """
    if limit is not None and not (v.is_int(limit) and limit >= 1):
        raise ConfigurationError("limit", limit, "None or a whole number of at least 1")
    fulfillers = program.registries.fulfillers
    jobs: list[tuple[str, list[str] | None, Claimer, Settler]] = [
        ("fulfil", sorted(fulfillers), claim_due, settle),
        # every kind: one whose fulfiller lost its reverse is given up, not left due
        ("reverse", None, claim_reversals, settle_reversals),
    ]
    report = FulfilmentReport()
    for operation, kinds, claim, settle_tries in jobs:
        taken = 0  # each job its own limit: a busy queue must not starve reversals
        while (kinds is None or kinds) and (limit is None or taken < limit):
            size = settings.batch_size if limit is None else min(settings.batch_size, limit - taken)
            claimed, dead = database.retrying(
                functools.partial(claim, program, settings, kinds, size)
            )
            observe(program, dead)
            report += FulfilmentReport(failed=len(dead))
            taken += len(claimed)
            if not claimed:
                if dead:
                    continue
                break
            one = functools.partial(call, program, fulfillers, operation)
            tried = list(threads.map(one, claimed)) if threads else [one(c) for c in claimed]
            report += database.retrying(functools.partial(settle_tries, program, settings, tried))
    return report
