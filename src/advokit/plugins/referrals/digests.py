"""Digests of what identifies a device or an address: compared, never kept in clear.

A digest is a pseudonym, not a secret: an address alone can be found again by
hashing every address there is. What they protect against is a table read by
someone who is not looking for one particular person.
"""

from __future__ import annotations

import hashlib
import ipaddress

__all__ = ["address", "digest"]


def digest(value: str) -> str:
    """A 32-character digest of ``value`` (BLAKE2b, 16 bytes)."""
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()


def address(ip: str) -> str:
    """``ip`` written one way, so that spellings of one address compare equal.

    IPv6 is compressed and lower-cased, and an IPv4 address mapped into IPv6
    (``::ffff:203.0.113.7``) is the IPv4 address. Text that is no address is
    kept as it is (stripped): it still compares with itself.
    """
    ip = ip.strip()
    if ":" not in ip:
        return ip  # IPv4 has one spelling (Python refuses leading zeros)
    try:
        parsed = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    mapped = getattr(parsed, "ipv4_mapped", None)
    return str(mapped or parsed)
