"""Certificates damaged in ways ``cryptography`` refuses with other exceptions than ValueError."""

from __future__ import annotations

_VERSION_3 = bytes.fromhex("a003020102")
"""The DER of ``[0] EXPLICIT INTEGER 2``: an X.509 v3 version field."""


def with_invalid_version(der: bytes) -> bytes:
    """``der`` with its version field made 106, which ``cryptography`` raises InvalidVersion for."""
    at = der.index(_VERSION_3) + len(_VERSION_3) - 1
    return der[:at] + b"\x6a" + der[at + 1 :]
