"""Certificates damaged in ways ``cryptography`` refuses with other exceptions than ValueError."""

from __future__ import annotations

_VERSION_3 = bytes.fromhex("a003020102")
"""The DER of ``[0] EXPLICIT INTEGER 2``: an X.509 v3 version field."""


def with_invalid_version(der: bytes) -> bytes:
    """``der`` with its version field made 106, which ``cryptography`` raises InvalidVersion for."""
    at = der.index(_VERSION_3) + len(_VERSION_3) - 1
    return der[:at] + b"\x6a" + der[at + 1 :]


_SAN_OID = bytes.fromhex("0603551d11")
_ISSUER_ALT_NAME_OID = bytes.fromhex("0603551d12")


def with_two_sans(der: bytes) -> bytes:
    """``der`` with its issuerAltName extension renamed subjectAltName: two SAN extensions.

    Its signature no longer verifies; ``cryptography`` raises DuplicateExtension, not
    ValueError, when its extensions are read.
    """
    assert _ISSUER_ALT_NAME_OID in der, "needs an issuerAltName extension to rename"
    return der.replace(_ISSUER_ALT_NAME_OID, _SAN_OID)
