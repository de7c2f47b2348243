"""Public keys: parsing, identification and signature verification."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from lacre.errors import InvalidInput, VerificationError

PublicKeyTypes = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class KeyAlgorithm(enum.Enum):
    """Signature algorithms lacre signs and verifies with, named as Sigstore names them."""

    ECDSA_P256_SHA256 = "PKIX_ECDSA_P256_SHA_256"
    ECDSA_P384_SHA384 = "PKIX_ECDSA_P384_SHA_384"
    ED25519 = "PKIX_ED25519"

    @property
    def key_details(self) -> str:
        """The Sigstore ``PublicKeyDetails`` name of this algorithm."""
        return self.value


_CURVES: dict[str, tuple[KeyAlgorithm, hashes.HashAlgorithm]] = {
    "secp256r1": (KeyAlgorithm.ECDSA_P256_SHA256, hashes.SHA256()),
    "secp384r1": (KeyAlgorithm.ECDSA_P384_SHA384, hashes.SHA384()),
}


def algorithm_of(key: PublicKeyTypes) -> KeyAlgorithm:
    """Return the signature algorithm used with ``key``, or raise for unsupported keys."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return KeyAlgorithm.ED25519
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _CURVES:
        return _CURVES[key.curve.name][0]
    raise InvalidInput(
        "unsupported public key type",
        expected="ECDSA P-256, ECDSA P-384 or Ed25519",
        found=type(key).__name__,
    )


@dataclass(frozen=True)
class PublicKey:
    """A verification key with its Sigstore identity (SPKI DER and its SHA-256)."""

    key: PublicKeyTypes

    def __post_init__(self) -> None:
        """Reject key types lacre cannot verify with."""
        algorithm_of(self.key)

    @classmethod
    def from_der(cls, der: bytes) -> PublicKey:
        """Parse a DER SubjectPublicKeyInfo."""
        try:
            key = serialization.load_der_public_key(der)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise InvalidInput(f"public key is not valid DER SubjectPublicKeyInfo: {exc}") from exc
        return cls(_narrow(key))

    @classmethod
    def from_pem(cls, pem: bytes) -> PublicKey:
        """Parse a PEM ``PUBLIC KEY`` block."""
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise InvalidInput(f"public key is not a valid PEM PUBLIC KEY: {exc}") from exc
        return cls(_narrow(key))

    @property
    def algorithm(self) -> KeyAlgorithm:
        """The signature algorithm this key verifies."""
        return algorithm_of(self.key)

    @property
    def spki_der(self) -> bytes:
        """The DER SubjectPublicKeyInfo encoding."""
        return self.key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def pem(self) -> bytes:
        """The PEM ``PUBLIC KEY`` encoding."""
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def key_id(self) -> bytes:
        """SHA-256 of the SPKI DER: Sigstore's log ID for this key."""
        return hashlib.sha256(self.spki_der).digest()

    @property
    def raw_ed25519(self) -> bytes:
        """The 32 raw public key bytes of an Ed25519 key."""
        if not isinstance(self.key, ed25519.Ed25519PublicKey):
            raise InvalidInput("raw key bytes exist only for Ed25519", found=self.algorithm.value)
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def verify(self, signature: bytes, data: bytes) -> None:
        """Verify ``signature`` over ``data``; raise :class:`VerificationError` if it fails."""
        try:
            if isinstance(self.key, ed25519.Ed25519PublicKey):
                self.key.verify(signature, data)
            else:
                digest = _CURVES[self.key.curve.name][1]
                self.key.verify(signature, data, ec.ECDSA(digest))
        except InvalidSignature as exc:
            raise VerificationError(
                f"signature does not verify with the {self.algorithm.value} key "
                f"{self.key_id.hex()[:16]}"
            ) from exc


def _narrow(key: object) -> PublicKeyTypes:
    if isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        algorithm_of(key)
        return key
    raise InvalidInput(
        "unsupported public key type",
        expected="ECDSA P-256, ECDSA P-384 or Ed25519",
        found=type(key).__name__,
    )
