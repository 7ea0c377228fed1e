"""Digests of what identifies a device or an address: compared, never kept in clear."""

from __future__ import annotations

import hashlib

__all__ = ["digest"]


def digest(value: str) -> str:
    """A 32-character digest of ``value`` (BLAKE2b, 16 bytes)."""
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()
