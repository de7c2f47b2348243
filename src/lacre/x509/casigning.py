"""Certificate signing by a CA key wherever it lives: in memory or in a PKCS#11 token.

``cryptography``'s certificate builder signs only with its own private-key objects.
For any other :class:`~lacre.keys.Signer` the TBSCertificate is built by
``cryptography`` with a throwaway key: the TBS names the signature algorithm
(``ecdsa-with-SHA256`` or ``ecdsa-with-SHA384``), which depends on the hash only,
never on the key. The signer signs those TBS bytes, the certificate is assembled as
``SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }`` and its signature is
verified against the CA key before the certificate is returned.

An in-memory ECDSA key (:class:`~lacre.keys.SoftwareSigner`) takes the builder's own
path instead: it signs once, with no throwaway signature and no verification, which
halves the cost of issuance on the certificate authority's hot path.

CA keys are ECDSA on P-256 (certificates signed with SHA-256) or P-384 (SHA-384);
any other key is refused with a :class:`~lacre.errors.ConfigError` naming it.
"""

from __future__ import annotations

import functools

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from lacre.errors import ConfigError, Error, VerificationError
from lacre.keys import KeyAlgorithm, PublicKey, Signer, SoftwareSigner
from lacre.x509.identity_cache import IdentityCache

CA_KEYS = "ECDSA P-256 or P-384"
"""The CA key types lacre signs certificates with."""
MAX_SIGNATURE = 512
"""Upper bound on a CA signature's length (a DER ECDSA P-384 signature is at most 104 bytes)."""

_checked_pairs: IdentityCache[bool] = IdentityCache()
"""(issuer certificate, signer) pairs :func:`check_issuer` accepted."""

CaHash = hashes.SHA256 | hashes.SHA384
"""The hashes CA keys sign certificates with."""

# CA key algorithm -> the certificate hash and asn1crypto's name of the signature algorithm.
_ALGORITHMS: dict[KeyAlgorithm, tuple[CaHash, str]] = {
    KeyAlgorithm.ECDSA_P256_SHA256: (hashes.SHA256(), "sha256_ecdsa"),
    KeyAlgorithm.ECDSA_P384_SHA384: (hashes.SHA384(), "sha384_ecdsa"),
}


def ca_hash(key: PublicKey) -> CaHash:
    """The hash certificates signed by ``key`` use; :class:`ConfigError` for other keys."""
    return _algorithm(key)[0]


def issuer_key(issuer_cert: x509.Certificate) -> PublicKey:
    """The CA key of ``issuer_cert``; :class:`ConfigError` if it is not a CA key lacre uses."""
    try:
        key = PublicKey.from_certificate(issuer_cert)
    except Error as exc:
        raise ConfigError("unsupported CA key", expected=CA_KEYS, found=exc.found) from exc
    _algorithm(key)
    return key


def check_issuer(issuer_cert: x509.Certificate, signer: Signer) -> None:
    """Raise :class:`ConfigError` unless ``signer`` holds the CA key of ``issuer_cert``.

    A CA checks the same pair for every certificate it issues: a pair that passed
    is remembered (by identity: certificates are immutable, and the remembered
    objects are kept alive so their identities cannot be reused).
    """
    if _checked_pairs.get(issuer_cert, signer):
        return
    if issuer_key(issuer_cert) != signer.public_key:
        raise ConfigError(
            "the CA signer's key does not match the issuer certificate",
            expected=f"the key of {issuer_cert.subject.rfc4514_string()}",
            found=f"key {signer.public_key.key_id.hex()[:16]}",
        )
    _checked_pairs.put(True, issuer_cert, signer)


def unsigned_tbs(builder: x509.CertificateBuilder, hash_: CaHash) -> bytes:
    """The DER TBSCertificate ``builder`` describes, naming ECDSA with ``hash_`` as algorithm."""
    return builder.sign(_throwaway_key(), hash_).tbs_certificate_bytes


def sign_certificate(builder: x509.CertificateBuilder, signer: Signer) -> x509.Certificate:
    """Sign the certificate ``builder`` describes with the CA key ``signer`` holds.

    Raise :class:`ConfigError` when the key is not a CA key lacre uses, or when the
    signer's signature is malformed or does not verify with its public key.
    """
    hash_, algorithm_name = _algorithm(signer.public_key)
    if isinstance(signer, SoftwareSigner) and isinstance(
        signer.private_key, ec.EllipticCurvePrivateKey
    ):
        return builder.sign(signer.private_key, hash_)
    tbs = unsigned_tbs(builder, hash_)
    signature = _checked_signature(signer, signer.sign(tbs))
    der = asn1_x509.Certificate(
        {
            "tbs_certificate": asn1_x509.TbsCertificate.load(tbs),
            "signature_algorithm": {"algorithm": algorithm_name},
            "signature_value": signature,
        }
    ).dump()
    certificate = x509.load_der_x509_certificate(der)
    _verify(certificate, tbs, signer.public_key)
    return certificate


def _algorithm(key: PublicKey) -> tuple[CaHash, str]:
    found = _ALGORITHMS.get(key.algorithm)
    if found is None:
        raise ConfigError("unsupported CA key", expected=CA_KEYS, found=key.algorithm.value)
    return found


@functools.cache
def _throwaway_key() -> ec.EllipticCurvePrivateKey:
    # Signs TBS bytes whose signature is discarded; P-256 is the cheapest with any hash.
    return ec.generate_private_key(ec.SECP256R1())


def _checked_signature(signer: Signer, signature: object) -> bytes:
    if not isinstance(signature, bytes) or not 0 < len(signature) <= MAX_SIGNATURE:
        size = f"{len(signature)} bytes" if isinstance(signature, bytes) else type(signature)
        raise ConfigError(
            f"the CA signer {type(signer).__name__} returned a malformed signature",
            expected=f"1 to {MAX_SIGNATURE} bytes",
            found=size,
        )
    return signature


def _verify(certificate: x509.Certificate, tbs: bytes, key: PublicKey) -> None:
    if certificate.tbs_certificate_bytes != tbs:
        raise ConfigError("the assembled certificate does not carry the TBSCertificate signed")
    try:
        key.verify(certificate.signature, certificate.tbs_certificate_bytes)
    except VerificationError as exc:
        raise ConfigError(
            "the CA signer's signature over the certificate does not verify",
            expected=f"a {key.algorithm.value} signature by key {key.key_id.hex()[:16]}",
            found=f"{len(certificate.signature)} signature bytes that do not verify",
        ) from exc
