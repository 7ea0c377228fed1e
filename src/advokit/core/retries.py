"""Work done after commit, from a queue in the database, tried again until it is done.

The outboxes (rewards' fulfilment, messages' delivery) share the same shape: a
worker claims due rows with a lease, calls the outside world outside any
transaction, then writes each outcome under the same lease. What they share
lives here: the settings (:class:`Retries`), what a callee may raise
(:class:`RetryLater`, :class:`GiveUp`), and the arithmetic of the backoff.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Self

import attrs
import tenacity

from advokit.core import validation as v

__all__ = ["GiveUp", "Retries", "RetryLater", "short", "span"]


class RetryLater(Exception):
    """Raised by a callee (a fulfiller, a channel): not now, try again later
    (a 5xx, a 429, an empty coupon pool).

    Args:
        reason: why, kept in the row's ``error``.
        after: how long to wait (``Retry-After``); None: the backoff decides.
        counts: whether this try counts against ``max_attempts``. An empty
            coupon pool does not: the reward waits for codes, however long.
    """

    def __init__(
        self, reason: str, *, after: timedelta | float | None = None, counts: bool = True
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = timedelta(seconds=after) if isinstance(after, int | float) else after
        self.counts = counts


class GiveUp(Exception):
    """Raised by a callee: this can never be done as it is (a 400); stop trying.

    The row is dead-lettered at once, with ``reason``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@attrs.frozen(kw_only=True)
class Retries:
    """How an outbox's worker tries, waits and gives up.

    Args:
        max_attempts: tries before a row is dead-lettered.
        first_retry: the backoff's scale: the first retry waits up to about this.
        longest_retry: the most the backoff waits between two tries.
        lease: how long one call may take; a worker that died lets its rows
            go when their leases lapse. A batch's n-th wave of ``concurrency``
            calls is leased for n leases.
        batch_size: rows claimed per transaction.
        concurrency: calls made at once (threads) within a batch.
    """

    max_attempts: int = attrs.field(default=8, validator=v.integer(minimum=1))
    first_retry: timedelta = attrs.field(
        default=timedelta(seconds=30), validator=v.positive_duration()
    )
    longest_retry: timedelta = attrs.field(
        default=timedelta(hours=6), validator=v.positive_duration()
    )
    lease: timedelta = attrs.field(default=timedelta(minutes=5), validator=v.positive_duration())
    batch_size: int = attrs.field(default=100, validator=v.integer(minimum=1, maximum=10_000))
    concurrency: int = attrs.field(default=1, validator=v.integer(minimum=1, maximum=256))

    def backoff(self, attempt: int) -> timedelta:
        """The wait after failed try number ``attempt``: exponential, full jitter (tenacity)."""
        wait = tenacity.wait_random_exponential(
            multiplier=self.first_retry.total_seconds(),
            max=self.longest_retry.total_seconds(),
        )
        state = tenacity.RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempt
        return timedelta(seconds=wait(state))

    def after_failure(
        self, attempts: int, error: BaseException
    ) -> tuple[int, timedelta | None, str]:
        """After try number ``attempts`` raised ``error``: the attempts it counts for,
        the wait before the next try (None: no next try, dead-lettered) and why."""
        reason = short(getattr(error, "reason", None) or str(error) or type(error).__name__)
        if isinstance(error, RetryLater) and not error.counts:
            attempts -= 1
        if isinstance(error, GiveUp):
            return attempts, None, reason
        if attempts >= self.max_attempts:
            return attempts, None, f"gave up after {attempts} attempts: {reason}"[:500]
        wait = getattr(error, "after", None) or self.backoff(max(attempts, 1))
        return attempts, min(wait, self.longest_retry), reason  # a Retry-After of a year: no

    def leases(self, now: datetime, ids: Sequence[int]) -> dict[int, datetime]:
        """The end of the lease of each claimed row, in the order the calls will be made:
        the n-th wave of ``concurrency`` calls holds ``n`` leases, so the end of a long
        batch does not lapse while its start is being called."""
        return {
            row_id: now + self.lease * (n // self.concurrency + 1) for n, row_id in enumerate(ids)
        }


class Report:
    """Base of an attrs class of counts (what a worker's round did): ``a + b`` adds
    them field by field."""

    def __add__(self, other: Self) -> Self:
        cls: Any = type(self)
        return cls(  # type: ignore[no-any-return]
            *(a + b for a, b in zip(attrs.astuple(self), attrs.astuple(other), strict=True))
        )


class KeptThreads:
    """The threads an outbox's worker calls the outside world with, kept from one
    round to the next (their HTTP or SMTP connections stay open); made again in a
    forked child, which has the pool but not its threads."""

    def __init__(self, concurrency: int, name: str) -> None:
        self.concurrency, self.name = concurrency, name
        self._pool: tuple[int, ThreadPoolExecutor] | None = None
        self._lock = threading.Lock()

    def get(self) -> ThreadPoolExecutor | None:
        """The pool, or None when calls are made one at a time."""
        if self.concurrency == 1:
            return None
        with self._lock:
            if self._pool is None or self._pool[0] != os.getpid():
                pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix=self.name)
                self._pool = (os.getpid(), pool)
            return self._pool[1]


def short(text: str) -> str:
    """``text`` on one line, at most 500 characters: an ``error`` column's value."""
    return " ".join(str(text).split())[:500]


def span(wait: timedelta) -> str:
    """A wait as people read it: ``90s``, ``12min``, ``9h``, ``7d``."""
    seconds = wait.total_seconds()
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 120 * 60:
        return f"{seconds / 60:.0f}min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"
