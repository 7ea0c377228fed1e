"""core.retries: what the outboxes share."""

from __future__ import annotations

import attrs

from advokit.core import retries
from advokit.core.retries import KeptThreads, Report


def test_reports_add_field_by_field():
    @attrs.frozen
    class Counts(Report):
        sent: int = 0
        failed: int = 0

    assert Counts(1, 2) + Counts(3, 4) == Counts(4, 6)


def test_kept_threads_are_kept_and_made_again_in_a_forked_child(monkeypatch):
    assert KeptThreads(1, "x").get() is None  # one call at a time: no threads
    threads = KeptThreads(2, "x")
    first = threads.get()
    assert threads.get() is first
    monkeypatch.setattr(retries.os, "getpid", lambda: -1)  # as in a forked child
    assert threads.get() is not first
    first.shutdown()
