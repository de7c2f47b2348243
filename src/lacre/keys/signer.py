"""Signers: anything that can produce signatures for a known public key."""

from __future__ import annotations

from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from lacre.keys.public import KeyAlgorithm, PublicKey

PrivateKeyTypes = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class Signer(Protocol):
    """Produces signatures that its ``public_key`` verifies."""

    @property
    def public_key(self) -> PublicKey:
        """The key that verifies this signer's signatures."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` (ECDSA: DER signature over the hash of ``data``; Ed25519: pure)."""
        ...


class SoftwareSigner:
    """A signer holding its private key in process memory."""

    def __init__(self, private_key: PrivateKeyTypes) -> None:
        """Wrap a ``cryptography`` private key."""
        self.private_key = private_key
        self._public = PublicKey(private_key.public_key())

    @property
    def public_key(self) -> PublicKey:
        """The key that verifies this signer's signatures."""
        return self._public

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` with the algorithm implied by the key."""
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.sign(data)
        digest: hashes.HashAlgorithm = (
            hashes.SHA384()
            if self._public.algorithm is KeyAlgorithm.ECDSA_P384_SHA384
            else hashes.SHA256()
        )
        return self.private_key.sign(data, ec.ECDSA(digest))


def generate_signer(algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256_SHA256) -> SoftwareSigner:
    """Create a fresh in-memory signer for ``algorithm``."""
    if algorithm is KeyAlgorithm.ED25519:
        return SoftwareSigner(ed25519.Ed25519PrivateKey.generate())
    curve: ec.EllipticCurve = (
        ec.SECP384R1() if algorithm is KeyAlgorithm.ECDSA_P384_SHA384 else ec.SECP256R1()
    )
    return SoftwareSigner(ec.generate_private_key(curve))
