"""RFC 3161 timestamps checked against a trusted timestamp authority.

:meth:`TrustedTsa.verify` requires of a timestamp read by
:func:`lacre.verify.rfc3161.parse_response`:

* the signer is the authority's signing certificate (by issuer and serial
  number, or by subject key identifier); a token that embeds certificates
  embeds that certificate and, at most, the rest of the authority's chain;
* the signed attributes hold the ``TSTInfo`` content type, the digest of the
  encapsulated ``TSTInfo`` and an ESS signing-certificate attribute (RFC 2634
  ``ESSCertID`` or RFC 5816 ``ESSCertIDv2``) whose first entry is the digest of
  the authority's certificate;
* the signature over the signed attributes verifies with the authority's key,
  with the SignerInfo's digest algorithm (SHA-256, -384 or -512), under a
  signature algorithm that fits the key and that digest;
* the ``TSTInfo`` imprints the SHA-256, -384 or -512 digest of the message;
* every certificate of the authority's chain is valid at the ``genTime``.

What depends on the trusted chain alone is checked once per chain and
remembered by the process: each certificate is signed by the next and the root
by itself, issuers are CAs that may sign certificates, and the signing
certificate's extended key usage is critical and ``timeStamping`` only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from lacre.der import dotted
from lacre.errors import InvalidInput, VerificationError
from lacre.keys import PublicKey
from lacre.verify.chain import check_end_certificate, check_issuer_path, check_valid_at
from lacre.verify.lru import Lru
from lacre.verify.rfc3161 import (
    TST_INFO,
    TimestampToken,
    issuer_and_serial,
    signature_scheme,
    subject_key_id,
)
from lacre.x509.certificates import extension_map


class TrustedTsa:
    """A trusted timestamp authority, prepared for checking many tokens.

    ``chain`` is the authority's certificate chain, its signing certificate
    first and its root last.
    """

    def __init__(self, chain: Sequence[x509.Certificate]) -> None:
        """Prepare the signing certificate and its key, and check the chain."""
        if not chain:
            raise VerificationError("timestamp authority has no certificate chain")
        self.chain = tuple(chain)
        self.leaf = self.chain[0]
        self.chain_der = frozenset(cert.public_bytes(Encoding.DER) for cert in self.chain)
        self.leaf_der = self.leaf.public_bytes(Encoding.DER)
        self.issuer_and_serial = issuer_and_serial(self.leaf)
        self.key_id = subject_key_id(self.leaf)
        try:
            self.key = PublicKey.from_certificate(self.leaf)
        except InvalidInput as exc:
            raise VerificationError(f"TSA certificate key is unusable: {exc}") from None
        key = self.key.key
        self.key_kind = (
            "ec"
            if isinstance(key, ec.EllipticCurvePublicKey)
            else "rsa"
            if isinstance(key, rsa.RSAPublicKey)
            else "ed25519"
        )
        self.chain_failure = _chain_failure(self.chain)

    def verify(self, token: TimestampToken, message: bytes) -> dt.datetime:
        """Check ``token`` as this authority's timestamp over ``message``; return its genTime."""
        failure = self.chain_failure
        if failure is not None:  # a new error each time: a raised one collects tracebacks
            raise VerificationError(failure.message, expected=failure.expected, found=failure.found)
        self._check_signer(token)
        _check_attributes(token)
        self._check_ess(token)
        self._check_signature(token)
        _check_imprint(token, message)
        for position, certificate in enumerate(self.chain):
            check_valid_at(certificate, token.gen_time, position)
        return token.gen_time

    def _check_signer(self, token: TimestampToken) -> None:
        if not token.signer.names(self.issuer_and_serial, self.key_id):
            raise VerificationError(
                "timestamp is signed by another certificate",
                expected=f"the TSA certificate {self.leaf.subject.rfc4514_string()}",
                found="a SignerInfo naming another certificate",
            )
        unknown = [der for der in token.embedded if der not in self.chain_der]
        if unknown or (token.embedded and self.leaf_der not in token.embedded):
            raise VerificationError(
                "timestamp embeds certificates other than its TSA's",
                expected="none, or the TSA certificate and, at most, the rest of its chain",
                found=f"{len(unknown)} certificate(s) outside the trusted chain"
                if unknown
                else "no TSA certificate",
            )

    def _check_ess(self, token: TimestampToken) -> None:
        if token.ess_hash is None:
            raise VerificationError(
                "timestamp does not name its signing certificate",
                expected="a signingCertificate or signingCertificateV2 attribute",
                found="neither",
            )
        expected = hashlib.new(token.ess_hash, self.leaf_der).digest()
        if not hmac.compare_digest(token.ess_cert_hash, expected):
            raise VerificationError(
                "timestamp names another signing certificate",
                expected=f"{token.ess_hash}:{expected.hex()}",
                found=f"{token.ess_hash}:{token.ess_cert_hash.hex()}",
            )

    def _check_signature(self, token: TimestampToken) -> None:
        scheme = signature_scheme(token.signature_algorithm)
        if (
            scheme is None
            or scheme[0] != self.key_kind
            or scheme[1] not in (None, token.digest_name)
        ):
            raise VerificationError(
                "timestamp signature algorithm does not fit the TSA key and digest",
                expected=f"{self.key_kind} with {token.digest_name}",
                found=dotted(token.signature_algorithm),
            )
        digest = hashlib.new(token.digest_name, token.signed_attributes).digest()
        try:
            self.key.verify_digest(token.signature, digest, token.digest_name)
        except (VerificationError, InvalidInput) as exc:
            raise VerificationError(
                "timestamp signature does not verify with the TSA key", found=str(exc)
            ) from None


def _check_attributes(token: TimestampToken) -> None:
    if token.content_type != TST_INFO:
        raise VerificationError(
            "timestamp content-type attribute",
            expected="1.2.840.113549.1.9.16.1.4 (TSTInfo)",
            found=dotted(token.content_type),
        )
    expected = hashlib.new(token.digest_name, token.content).digest()
    if not hmac.compare_digest(token.message_digest, expected):
        raise VerificationError(
            "timestamp message-digest attribute does not match its TSTInfo",
            expected=expected.hex(),
            found=token.message_digest.hex(),
        )


def _check_imprint(token: TimestampToken, message: bytes) -> None:
    expected = hashlib.new(token.imprint_hash, message).digest()
    if not hmac.compare_digest(token.imprint, expected):
        raise VerificationError(
            "timestamp is over another message",
            expected=f"{token.imprint_hash}:{expected.hex()}",
            found=f"{token.imprint_hash}:{token.imprint.hex()}",
        )


_PREPARED: Lru[tuple[x509.Certificate, ...], TrustedTsa] = Lru(64)
"""Authorities prepared for checking tokens, by chain: shared by every verifier of the process."""


def trusted_tsa(chain: tuple[x509.Certificate, ...]) -> TrustedTsa:
    """The authority of ``chain``, prepared (and its chain checked) once per process."""
    prepared = _PREPARED.get(chain)
    if prepared is None:
        prepared = TrustedTsa(chain)
        _PREPARED.put(chain, prepared)
    return prepared


def _chain_failure(chain: tuple[x509.Certificate, ...]) -> VerificationError | None:
    """Why ``chain`` fails its own checks, or None: a pure function of its certificates."""
    try:
        _check_leaf_usage(chain[0])
        check_issuer_path(chain[1:])
        check_end_certificate(chain[0], chain[1] if len(chain) > 1 else chain[0])
    except VerificationError as exc:
        return exc
    return None


def _check_leaf_usage(leaf: x509.Certificate) -> None:
    try:
        extension = extension_map(leaf).get(ExtensionOID.EXTENDED_KEY_USAGE)
    except InvalidInput as exc:
        raise VerificationError(f"TSA certificate: {exc}") from None
    if extension is None or not isinstance(extension.value, x509.ExtendedKeyUsage):
        raise VerificationError(
            "TSA certificate has no extended key usage", expected="critical timeStamping"
        )
    usages = list(extension.value)
    if not extension.critical or usages != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise VerificationError(
            "TSA certificate extended key usage",
            expected="critical, timeStamping only",
            found=f"{'critical' if extension.critical else 'not critical'}, "
            + ", ".join(usage.dotted_string for usage in usages),
        )
