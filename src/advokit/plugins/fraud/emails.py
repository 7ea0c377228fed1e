"""Comparing email addresses as a fraudster would vary them: one inbox, throwaway domains,
near-copies (:func:`inbox` lives with the referrals plugin, which matches invitations by it)."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files

from advokit.plugins.referrals.emails import inbox

__all__ = ["disposable_domains", "edit_distance", "inbox", "is_disposable"]


def disposable_domains() -> frozenset[str]:
    """The shipped list of disposable email domains."""
    text = files(__package__).joinpath("disposable_domains.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def is_disposable(email: str, domains: Iterable[str] | frozenset[str]) -> bool:
    """Whether ``email``'s domain (or a parent domain) is in ``domains``."""
    domain = email.strip().lower().rpartition("@")[2]
    parts = domain.split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts) - 1))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous[-1], limit + 1)
