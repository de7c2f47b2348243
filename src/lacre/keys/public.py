"""Public keys: parsing, identification and signature verification.

Verifiable key types are ECDSA on P-256, P-384 and P-521, RSA with 2048, 3072 or
4096-bit moduli (PKCS#1 v1.5 or PSS, SHA-256) and Ed25519. Each combination of
key and signature scheme is a :class:`KeyAlgorithm`, named as Sigstore's
``PublicKeyDetails`` names it.
"""

from __future__ import annotations

import enum
import functools
import hashlib
from typing import cast

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from lacre.errors import InvalidInput, VerificationError
from lacre.record import record

PublicKeyTypes = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | rsa.RSAPublicKey

SUPPORTED_KEYS = "ECDSA P-256/P-384/P-521, RSA 2048/3072/4096 or Ed25519"


class KeyAlgorithm(enum.Enum):
    """Signature algorithms lacre signs and verifies with, named as Sigstore names them."""

    ECDSA_P256_SHA256 = "PKIX_ECDSA_P256_SHA_256"
    ECDSA_P384_SHA384 = "PKIX_ECDSA_P384_SHA_384"
    ED25519 = "PKIX_ED25519"
    ECDSA_P521_SHA512 = "PKIX_ECDSA_P521_SHA_512"
    ED25519_PH = "PKIX_ED25519_PH"
    RSA_PKCS1V15_2048_SHA256 = "PKIX_RSA_PKCS1V15_2048_SHA256"
    RSA_PKCS1V15_3072_SHA256 = "PKIX_RSA_PKCS1V15_3072_SHA256"
    RSA_PKCS1V15_4096_SHA256 = "PKIX_RSA_PKCS1V15_4096_SHA256"
    RSA_PSS_2048_SHA256 = "PKIX_RSA_PSS_2048_SHA256"
    RSA_PSS_3072_SHA256 = "PKIX_RSA_PSS_3072_SHA256"
    RSA_PSS_4096_SHA256 = "PKIX_RSA_PSS_4096_SHA256"

    @property
    def key_details(self) -> str:
        """The Sigstore ``PublicKeyDetails`` name of this algorithm."""
        return self.value

    @property
    def hash_name(self) -> str | None:
        """The hash the message is digested with (``"sha256"`` …); None for pure Ed25519."""
        return _HASH_NAMES[self._value_]  # by value: hashing a member is a Python call

    @classmethod
    def from_details(cls, name: str) -> KeyAlgorithm:
        """Return the algorithm a ``PublicKeyDetails`` name denotes, or raise InvalidInput."""
        try:
            return cls(name)
        except ValueError:
            raise InvalidInput(
                "unsupported PublicKeyDetails",
                expected="one of " + ", ".join(sorted(member.value for member in cls)),
                found=repr(name),
            ) from None


_HASH_NAMES: dict[str, str | None] = {
    KeyAlgorithm.ECDSA_P256_SHA256.value: "sha256",
    KeyAlgorithm.ECDSA_P384_SHA384.value: "sha384",
    KeyAlgorithm.ED25519.value: None,
    KeyAlgorithm.ECDSA_P521_SHA512.value: "sha512",
    KeyAlgorithm.ED25519_PH.value: "sha512",
    **{member.value: "sha256" for member in KeyAlgorithm if member.name.startswith("RSA_")},
}

HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}

_CURVES: dict[str, tuple[KeyAlgorithm, hashes.HashAlgorithm]] = {
    "secp256r1": (KeyAlgorithm.ECDSA_P256_SHA256, hashes.SHA256()),
    "secp384r1": (KeyAlgorithm.ECDSA_P384_SHA384, hashes.SHA384()),
    "secp521r1": (KeyAlgorithm.ECDSA_P521_SHA512, hashes.SHA512()),
}

_RSA_SIZES = (2048, 3072, 4096)


def _unsupported(key: object) -> InvalidInput:
    size = getattr(key, "key_size", None)
    found = type(key).__name__ + (f" ({size} bits)" if isinstance(size, int) else "")
    return InvalidInput("unsupported public key type", expected=SUPPORTED_KEYS, found=found)


_KEY_TYPES = (ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey, rsa.RSAPublicKey)
_KINDS: dict[type, type | None] = {}


def _kind(key: object) -> type | None:
    """Which of :data:`_KEY_TYPES` ``key`` is, or None.

    These are abstract classes that ``cryptography``'s own key classes are
    registered with, and an ``isinstance`` check against one costs a call into
    ``abc``; the answer is remembered for each concrete class.
    """
    cls = type(key)
    if cls not in _KINDS:
        _KINDS[cls] = next((kind for kind in _KEY_TYPES if isinstance(key, kind)), None)
    return _KINDS[cls]


def algorithm_of(key: PublicKeyTypes) -> KeyAlgorithm:
    """Return the default signature algorithm used with ``key``, or raise for unsupported keys."""
    kind = _kind(key)
    if kind is ed25519.Ed25519PublicKey:
        return KeyAlgorithm.ED25519
    if kind is ec.EllipticCurvePublicKey:
        curve = cast(ec.EllipticCurvePublicKey, key).curve.name
        if curve in _CURVES:
            return _CURVES[curve][0]
    if kind is rsa.RSAPublicKey:
        size = cast(rsa.RSAPublicKey, key).key_size
        if size in _RSA_SIZES:
            return KeyAlgorithm(f"PKIX_RSA_PKCS1V15_{size}_SHA256")
    raise _unsupported(key)


def algorithms_for(key: PublicKeyTypes) -> frozenset[KeyAlgorithm]:
    """Return every algorithm ``key`` can verify (RSA: PKCS#1 v1.5 and PSS; Ed25519: pure, ph)."""
    default = algorithm_of(key)
    if isinstance(key, rsa.RSAPublicKey):
        return frozenset({default, KeyAlgorithm(f"PKIX_RSA_PSS_{key.key_size}_SHA256")})
    if default is KeyAlgorithm.ED25519:
        return frozenset({default, KeyAlgorithm.ED25519_PH})
    return frozenset({default})


@record
class PublicKey:
    """A verification key with its Sigstore identity (SPKI DER and its SHA-256)."""

    key: PublicKeyTypes

    def __post_init__(self) -> None:
        """Reject key types lacre cannot verify with (reading the key's algorithm, once)."""
        self.algorithm  # noqa: B018 - the cached property checks the key and keeps the answer

    @classmethod
    def wrap(cls, key: object) -> PublicKey:
        """Wrap any ``cryptography`` public key, refusing types lacre cannot verify with."""
        return cls(_narrow(key))

    @classmethod
    def from_certificate(cls, certificate: x509.Certificate) -> PublicKey:
        """The subject public key of ``certificate``; :class:`InvalidInput` if it is unusable."""
        try:
            key = certificate.public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise InvalidInput(f"certificate public key cannot be loaded: {exc}") from exc
        return cls(_narrow(key))

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

    @functools.cached_property
    def algorithm(self) -> KeyAlgorithm:
        """The default signature algorithm of this key (RSA: PKCS#1 v1.5; Ed25519: pure)."""
        return algorithm_of(self.key)

    def default_details(self, *, prehashed: bool = True) -> KeyAlgorithm:
        """The default ``PublicKeyDetails`` of this key.

        With ``prehashed`` (the hashedrekord context, where the signed message is a
        digest) an Ed25519 key defaults to ``PKIX_ED25519_PH``; without it, to pure
        ``PKIX_ED25519``. Other keys have one default whatever the context.
        """
        default = self.algorithm
        if prehashed and default is KeyAlgorithm.ED25519:
            return KeyAlgorithm.ED25519_PH
        return default

    @functools.cached_property
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

    @functools.cached_property
    def key_id(self) -> bytes:
        """SHA-256 of the SPKI DER: Sigstore's log ID for this key."""
        return hashlib.sha256(self.spki_der).digest()

    @property
    def raw_ed25519(self) -> bytes:
        """The 32 raw public key bytes of an Ed25519 key."""
        if not isinstance(self.key, ed25519.Ed25519PublicKey):
            raise InvalidInput(
                "raw key bytes exist only for Ed25519",
                expected="an Ed25519 key",
                found=self.algorithm.value,
            )
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def verify(
        self, signature: bytes, data: bytes, *, algorithm: KeyAlgorithm | None = None
    ) -> None:
        """Verify ``signature`` over ``data``; raise :class:`VerificationError` if it fails.

        ``algorithm`` defaults to the key's own (:attr:`algorithm`); pass an RSA PSS
        algorithm to verify PSS signatures.
        """
        chosen = self._check_algorithm(algorithm)
        if chosen is KeyAlgorithm.ED25519_PH:
            raise _no_ed25519ph()
        try:
            if chosen is KeyAlgorithm.ED25519:
                cast(ed25519.Ed25519PublicKey, self.key).verify(signature, data)
            else:
                self._verify_hashed(signature, data, chosen, chosen.hash_name, prehashed=False)
        except InvalidSignature as exc:
            raise self._failure(chosen) from exc

    def verify_digest(
        self,
        signature: bytes,
        digest: bytes,
        hash_name: str,
        *,
        algorithm: KeyAlgorithm | None = None,
    ) -> None:
        """Verify ``signature`` over a PREHASHED ``digest`` made with ``hash_name``.

        ``hash_name`` is ``sha256``, ``sha384`` or ``sha512`` and the digest must have
        its length. ECDSA and RSA keys verify with the digest as the message hash;
        Ed25519 would need Ed25519ph, which ``cryptography`` does not provide, so it
        is refused with :class:`InvalidInput`. ``algorithm`` only picks the scheme
        (RSA PSS or PKCS#1 v1.5); which hash a key may be paired with is the caller's policy.
        """
        chosen = self._check_algorithm(algorithm)
        _check_digest(digest, hash_name)
        if chosen in _EDWARDS:
            raise _no_ed25519ph()
        try:
            self._verify_hashed(signature, digest, chosen, hash_name, prehashed=True)
        except InvalidSignature as exc:
            raise self._failure(chosen) from exc

    def _check_algorithm(self, algorithm: KeyAlgorithm | None) -> KeyAlgorithm:
        if algorithm is None:
            return self.algorithm
        if algorithm not in algorithms_for(self.key):
            raise InvalidInput(
                f"algorithm does not fit the {self.algorithm.value} key",
                expected=" or ".join(sorted(a.value for a in algorithms_for(self.key))),
                found=algorithm.value,
            )
        return algorithm

    def _verify_hashed(
        self,
        signature: bytes,
        message: bytes,
        algorithm: KeyAlgorithm,
        hash_name: str | None,
        *,
        prehashed: bool,
    ) -> None:
        """Verify an ECDSA or RSA signature; InvalidSignature if it does not verify."""
        if algorithm in _ECDSA:
            key = cast(ec.EllipticCurvePublicKey, self.key)
            key.verify(signature, message, ecdsa_parameters(hash_name, prehashed))
        else:
            hashing = _hashing(hash_name, prehashed)
            cast(rsa.RSAPublicKey, self.key).verify(
                signature, message, _rsa_padding(algorithm), hashing
            )

    def _failure(self, algorithm: KeyAlgorithm) -> VerificationError:
        return VerificationError(
            f"signature does not verify with the {algorithm.value} key {self.key_id.hex()[:16]}"
        )


# Tuples: membership compares members by identity, where a set would hash them in Python.
_ECDSA = (
    KeyAlgorithm.ECDSA_P256_SHA256,
    KeyAlgorithm.ECDSA_P384_SHA384,
    KeyAlgorithm.ECDSA_P521_SHA512,
)
_EDWARDS = (KeyAlgorithm.ED25519, KeyAlgorithm.ED25519_PH)


@functools.cache
def _hashing(hash_name: str | None, prehashed: bool) -> hashes.HashAlgorithm | utils.Prehashed:
    """The :data:`HASHES` algorithm ``hash_name``, marked as prehashed if asked."""
    assert hash_name is not None  # only pure Ed25519 has no hash, and it is never hashed here
    return utils.Prehashed(HASHES[hash_name]) if prehashed else HASHES[hash_name]


@functools.cache
def ecdsa_parameters(hash_name: str | None, prehashed: bool = False, /) -> ec.ECDSA:
    """The ECDSA parameters for :data:`HASHES` ``hash_name``, made once for the process.

    Making one per signature costs as much as hashing a short message.
    """
    return ec.ECDSA(_hashing(hash_name, prehashed))


def _rsa_padding(algorithm: KeyAlgorithm) -> padding.AsymmetricPadding:
    if algorithm.name.startswith("RSA_PSS_"):
        return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
    return padding.PKCS1v15()


def _check_digest(digest: bytes, hash_name: str) -> None:
    hash_algorithm = HASHES.get(hash_name)
    if hash_algorithm is None:
        raise InvalidInput(
            "unsupported digest algorithm", expected="sha256, sha384 or sha512", found=hash_name
        )
    if len(digest) != hash_algorithm.digest_size:
        raise InvalidInput(
            f"{hash_name} digest has the wrong length",
            expected=f"{hash_algorithm.digest_size} bytes",
            found=f"{len(digest)} bytes",
        )


def _no_ed25519ph() -> InvalidInput:
    return InvalidInput(
        "Ed25519ph (PKIX_ED25519_PH) signatures cannot be verified: the cryptography "
        "library implements only pure Ed25519"
    )


def _narrow(key: object) -> PublicKeyTypes:
    """``key`` as a type :class:`PublicKey` may hold (its size or curve is checked there)."""
    if _kind(key) is not None:
        return cast(PublicKeyTypes, key)
    raise _unsupported(key)
