"""Proof that the requester holds the private key a certificate will name.

Two forms, as Fulcio accepts them: a signature over the principal's name with
the key's default scheme (ECDSA with the curve's hash, RSA PKCS#1 v1.5 with
SHA-256, pure Ed25519), or a PKCS#10 request whose self-signature is the proof.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import PublicKey

_CURVES = ("secp256r1", "secp384r1", "secp521r1")
_RSA_BITS = (2048, 4096)
_ACCEPTED = "ECDSA P-256, P-384 or P-521, RSA 2048 to 4096 bits, or Ed25519"
_FAMILIES: list[tuple[type, str]] = [
    (dsa.DSAPublicKey, "DSA"),
    (ed448.Ed448PublicKey, "Ed448"),
    (x25519.X25519PublicKey, "X25519 (key agreement only)"),
    (x448.X448PublicKey, "X448 (key agreement only)"),
]


def check_key_strength(key: PublicKey) -> None:
    """Refuse keys a code-signing certificate must not name (Fulcio's "goodkey" rules)."""
    check_public_key(key.key)


def check_public_key(raw: object) -> None:
    """:func:`check_key_strength` for a ``cryptography`` public key, before it is wrapped."""
    if isinstance(raw, ed25519.Ed25519PublicKey):
        return
    if isinstance(raw, ec.EllipticCurvePublicKey):
        if raw.curve.name not in _CURVES:
            raise InvalidInput(
                "unsupported curve", expected="P-256, P-384 or P-521", found=raw.curve.name
            )
        return
    if isinstance(raw, rsa.RSAPublicKey):
        size, exponent = raw.key_size, raw.public_numbers().e
        if not _RSA_BITS[0] <= size <= _RSA_BITS[1] or size % 8 or exponent != 65537:
            raise InvalidInput(
                "weak RSA key",
                expected="2048 to 4096 bits (a multiple of 8) with e = 65537",
                found=f"{size} bits, e = {exponent}",
            )
        return
    family = next((name for kind, name in _FAMILIES if isinstance(raw, kind)), None)
    raise InvalidInput(
        "unsupported key type", expected=_ACCEPTED, found=family or type(raw).__name__
    )


def load_public_key(data: bytes) -> PublicKey:
    """A public key (PEM ``PUBLIC KEY`` or DER SubjectPublicKeyInfo) a certificate may name."""
    try:
        raw = (
            serialization.load_pem_public_key(data)
            if data.lstrip().startswith(b"-----BEGIN")
            else serialization.load_der_public_key(data)
        )
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidInput(
            "not a public key", expected="PEM PUBLIC KEY or DER SubjectPublicKeyInfo", found=exc
        ) from None
    check_public_key(raw)
    return PublicKey.wrap(raw)


def check_signed_name(key: PublicKey, principal_name: str, proof: bytes) -> None:
    """Check ``proof`` is ``key``'s signature over ``principal_name``."""
    try:
        key.verify(proof, principal_name.encode("utf-8"))
    except VerificationError as exc:
        raise VerificationError(
            f"proof of possession does not verify: it must be a signature over {principal_name!r} "
            "with the requested key"
        ) from exc


def key_from_csr(data: bytes) -> PublicKey:
    """The public key of a PKCS#10 request (PEM or DER) whose self-signature verifies."""
    try:
        csr = (
            x509.load_pem_x509_csr(data)
            if data.lstrip().startswith(b"-----BEGIN")
            else x509.load_der_x509_csr(data)
        )
        raw = csr.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        raise InvalidInput(
            f"certificateSigningRequest is not a usable PKCS#10 request: {exc}"
        ) from exc
    check_public_key(raw)
    try:
        valid = csr.is_signature_valid
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidInput(
            f"certificateSigningRequest: its signature cannot be checked: {exc}"
        ) from exc
    if not valid:
        raise VerificationError(
            "certificateSigningRequest: its self-signature does not verify",
            expected="a signature by the key it names",
        )
    return PublicKey.wrap(raw)
