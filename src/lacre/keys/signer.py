"""Signers: anything that can produce signatures for a known public key."""

from __future__ import annotations

from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from lacre.errors import InvalidInput
from lacre.keys.public import HASHES, KeyAlgorithm, PublicKey

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
        hash_name = self._public.algorithm.hash_name
        assert hash_name is not None  # only pure Ed25519 has no hash
        return self.private_key.sign(data, ec.ECDSA(HASHES[hash_name]))


SIGNING_ALGORITHMS = (
    KeyAlgorithm.ECDSA_P256_SHA256,
    KeyAlgorithm.ECDSA_P384_SHA384,
    KeyAlgorithm.ECDSA_P521_SHA512,
    KeyAlgorithm.ED25519,
)
"""The algorithms lacre signs with (the others it only verifies)."""

_CURVES: dict[KeyAlgorithm, ec.EllipticCurve] = {
    KeyAlgorithm.ECDSA_P256_SHA256: ec.SECP256R1(),
    KeyAlgorithm.ECDSA_P384_SHA384: ec.SECP384R1(),
    KeyAlgorithm.ECDSA_P521_SHA512: ec.SECP521R1(),
}


def generate_signer(algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256_SHA256) -> SoftwareSigner:
    """Create a fresh in-memory signer for ``algorithm`` (one of :data:`SIGNING_ALGORITHMS`)."""
    if algorithm is KeyAlgorithm.ED25519:
        return SoftwareSigner(ed25519.Ed25519PrivateKey.generate())
    if algorithm not in _CURVES:
        raise InvalidInput(
            "lacre does not sign with this algorithm",
            expected=", ".join(a.value for a in SIGNING_ALGORITHMS),
            found=algorithm.value,
        )
    return SoftwareSigner(ec.generate_private_key(_CURVES[algorithm]))
