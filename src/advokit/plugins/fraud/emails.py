"""Comparing email addresses as a fraudster would vary them.

``Alice@Gmail.com`` and ``a.lice+x@googlemail.com`` reach the same inbox:
Gmail ignores dots and case in the local part, and googlemail.com is the
same domain; most providers deliver ``name+tag@`` to ``name@``.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files

__all__ = ["disposable_domains", "edit_distance", "inbox", "is_disposable"]

_GMAIL = {"gmail.com", "googlemail.com"}


def inbox(email: str) -> str:
    """The inbox an address delivers to: lower case, ``+tag`` dropped, Gmail's dots too."""
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        return email.strip().lower()
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


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
