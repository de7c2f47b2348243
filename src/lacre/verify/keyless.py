"""Checks of the signing certificate.

Validity at every verified time (G), its chain (C), its embedded SCTs (D) and
its profile (E.1).
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

from lacre.errors import VerificationError
from lacre.verify.anchors import TrustAnchors
from lacre.verify.chain import (
    PathCertificate,
    check_issued_by,
    check_leaf_profile,
    subject_text,
)
from lacre.verify.sct import verify_embedded_scts
from lacre.verify.timestamps import VerifiedTime
from lacre.x509.certificates import UNREADABLE_CERTIFICATE, asn1_error


def load_leaf(certificates: Sequence[bytes]) -> PathCertificate:
    """The signing certificate of a bundle; a bundle chain carrying a root is refused.

    Other certificates of a v0.1/v0.2 chain are ignored: only the trusted root's
    certificates are used to build the path.
    """
    loaded = [PathCertificate(_load(der, n), der) for n, der in enumerate(certificates)]
    for number, cert in enumerate(loaded):
        if _self_signed(cert):
            raise VerificationError(
                "bundle certificate chain contains a self-signed (root) certificate",
                expected="the signing certificate and, at most, intermediates",
                found=f"certificate {number}: {subject_text(cert.certificate)}",
            )
    return loaded[0]


def check_certificate(
    leaf: PathCertificate,
    times: Sequence[VerifiedTime],
    anchors: TrustAnchors,
    *,
    ctlog_threshold: int = 1,
) -> None:
    """Run G, C, D and E.1 on ``leaf`` for every verified time.

    The time-independent results (the CA's signature, the SCTs) are remembered
    by ``anchors``, keyed by the leaf's DER, once they verified.
    """
    certificate = leaf.certificate
    for verified in times:
        _check_validity(certificate, verified)
    issuers = anchors.chains.verify(leaf, [verified.time for verified in times])
    key_hash = anchors.issuer_key_hash(issuers[0])
    remembered = (leaf.der, key_hash, ctlog_threshold)
    if not anchors.scts.get(remembered):
        verify_embedded_scts(
            certificate,
            issuers[0],
            anchors.root,
            threshold=ctlog_threshold,
            issuer_key_hash=key_hash,
        )
        anchors.scts.put(remembered, True)
    check_leaf_profile(certificate)


def _check_validity(leaf: x509.Certificate, verified: VerifiedTime) -> None:
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    if not start <= verified.time <= end:
        raise VerificationError(
            f"signing time from {verified.source} is outside the certificate's validity",
            expected=f"{start.isoformat()} .. {end.isoformat()}",
            found=verified.time.isoformat(),
        )


def _load(der: bytes, number: int) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except UNREADABLE_CERTIFICATE as exc:
        raise VerificationError(
            f"bundle certificate {number} is not a DER X.509 certificate",
            expected="DER",
            found=asn1_error(exc),
        ) from None


def _self_signed(cert: PathCertificate) -> bool:
    try:
        layout = cert.layout
    except ValueError:
        return False  # not a certificate that could verify its own signature
    if layout.issuer != layout.subject:
        return False
    try:
        check_issued_by(cert, cert)
    except VerificationError:
        return False
    return True
