"""Verification material: a public key, or a certificate (chain) whose leaf holds the key.

Rekor v1 carries material as PEM (also accepted: DER) inside base64; Rekor v2
as DER with its type named by the field. Either way the search index sees the
same thing: ``hex(SHA256(canonical PEM))`` and the leaf's SAN identities.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, PublicKey
from lacre.rekor.kinds.common import located
from lacre.x509 import canonical_pem, subject_identities
from lacre.x509.certificates import UNREADABLE_CERTIFICATE

MAX_CHAIN = 10
"""Most certificates a PEM chain may hold (as Rekor v1)."""

T = TypeVar("T")

_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,64})-----")


@dataclass(frozen=True)
class Material:
    """A verification key with its canonical PEM and the identities it speaks for."""

    key: PublicKey
    canonical_pem: bytes
    identities: tuple[str, ...] = ()

    @property
    def index_keys(self) -> frozenset[str]:
        """``hex(SHA256(canonical PEM))`` and every (lower-cased) SAN identity."""
        return frozenset({hashlib.sha256(self.canonical_pem).hexdigest(), *self.identities})

    def verifies(
        self, signature: bytes, message: bytes, algorithm: KeyAlgorithm | None = None
    ) -> bool:
        """Whether ``signature`` over ``message`` verifies with this key (pure message)."""
        try:
            self.key.verify(signature, message, algorithm=algorithm)
        except VerificationError:
            return False
        return True

    def verifies_sha256(self, signature: bytes, message: bytes) -> bool:
        """Rekor v1 DSSE rule: ECDSA/RSA over SHA-256 of ``message`` for any key; Ed25519 pure."""
        if self.key.algorithm is KeyAlgorithm.ED25519:
            return self.verifies(signature, message)
        try:
            self.key.verify_digest(signature, hashlib.sha256(message).digest(), "sha256")
        except VerificationError:
            return False
        return True


def from_bytes(data: bytes, path: str) -> Material:
    """Parse Rekor v1 material: PEM public key, PEM certificate (chain) or their DER forms."""
    match = _PEM_LABEL.search(data)
    if match is None:
        return _from_der(data, path)
    if match.group(1) == b"CERTIFICATE":
        return _from_pem_chain(data, path)
    if match.group(1) == b"PUBLIC KEY":
        if len(_PEM_LABEL.findall(data)) > 1:
            raise InvalidInput(f"{path}: expected one PEM PUBLIC KEY block, found several")
        return from_key(_guard(lambda: PublicKey.from_pem(data), path))
    raise InvalidInput(
        f"{path}: unsupported PEM block type",
        expected="CERTIFICATE or PUBLIC KEY",
        found=match.group(1).decode("ascii"),
    )


def from_certificate_der(der: bytes, path: str) -> Material:
    """Material from one DER certificate (Rekor v2 ``x509Certificate.rawBytes``)."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except UNREADABLE_CERTIFICATE as exc:
        raise InvalidInput(f"{path}: not a DER X.509 certificate: {exc}") from exc
    return _from_certificates([cert], path)


def from_key_der(der: bytes, path: str) -> Material:
    """Material from a DER SubjectPublicKeyInfo (Rekor v2 ``publicKey.rawBytes``)."""
    return from_key(_guard(lambda: PublicKey.from_der(der), path))


def from_key(key: PublicKey) -> Material:
    """Material for a bare public key (no identities)."""
    return Material(key, canonical_pem(key.key))


def _from_der(data: bytes, path: str) -> Material:
    try:
        cert = x509.load_der_x509_certificate(data)
    except UNREADABLE_CERTIFICATE:
        try:
            return from_key(PublicKey.from_der(data))
        except InvalidInput as exc:
            raise InvalidInput(
                f"{path}: expected a PEM or DER certificate or public key, found neither "
                f"({exc.message})"
            ) from exc
    return _from_certificates([cert], path)


def _from_pem_chain(data: bytes, path: str) -> Material:
    if len(_PEM_LABEL.findall(data)) > MAX_CHAIN:
        raise InvalidInput(f"{path}: certificate chain too long", expected=f"<= {MAX_CHAIN}")
    try:
        certs = x509.load_pem_x509_certificates(data)
    except UNREADABLE_CERTIFICATE as exc:
        raise InvalidInput(f"{path}: not a valid PEM certificate (chain): {exc}") from exc
    return _from_certificates(certs, path)


def _from_certificates(certs: list[x509.Certificate], path: str) -> Material:
    def build() -> Material:
        key = PublicKey.from_certificate(certs[0])
        pem = b"".join(canonical_pem(cert) for cert in certs)
        return Material(key, pem, tuple(subject_identities(certs[0])))

    return _guard(build, path)


def _guard(make: Callable[[], T], path: str) -> T:
    with located(path):
        return make()
