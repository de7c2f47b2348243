"""What signing needs from the outside world: a CA, transparency logs, timestamp authorities.

:mod:`lacre.clients` implements these over HTTP; tests implement them in memory.
"""

from __future__ import annotations

from typing import Protocol

from cryptography import x509

from lacre.dsse import Envelope
from lacre.keys import PublicKey
from lacre.models.tlog_entry import TransparencyLogEntry

Verifier = x509.Certificate | PublicKey
"""What verifies a logged signature: the signing certificate or a managed public key."""


class CertificateAuthority(Protocol):
    """Issues short-lived signing certificates for an identity token."""

    def sign_csr(self, csr: x509.CertificateSigningRequest, token: str) -> list[x509.Certificate]:
        """Certify the key of ``csr`` for the identity of ``token``; the chain, leaf first."""
        ...


class TransparencyLog(Protocol):
    """Records signatures in a transparency log."""

    def log_message(
        self, *, algorithm: str, digest: bytes, signature: bytes, verifier: Verifier
    ) -> TransparencyLogEntry:
        """Log a signature over ``digest`` (``algorithm``: sha256, sha384 or sha512)."""
        ...

    def log_dsse(self, *, envelope: Envelope, verifier: Verifier) -> TransparencyLogEntry:
        """Log a DSSE envelope."""
        ...


class TimestampAuthority(Protocol):
    """Countersigns signatures with a trusted time (RFC 3161)."""

    def timestamp(self, signature: bytes) -> bytes:
        """A DER ``TimeStampResp`` over ``signature``."""
        ...
