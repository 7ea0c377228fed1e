"""The inbox an email address reaches: how invitations are matched, and self-referrals found.

``Alice@Gmail.com`` and ``a.lice+x@googlemail.com`` reach the same inbox:
Gmail ignores dots and case in the local part, and googlemail.com is the
same domain; most providers deliver ``name+tag@`` to ``name@``.
"""

from __future__ import annotations

__all__ = ["inbox"]

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
