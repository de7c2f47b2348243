"""Embedded SCTs of the signing certificate, checked against the trusted CT logs (check D)."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from lacre.errors import InvalidInput, VerificationError
from lacre.models.trust_reader import TrustedRoot
from lacre.transparency.ct import PrecertEntry, SignedCertificateTimestamp, verify_sct
from lacre.transparency.ct import issuer_key_hash as key_hash_of
from lacre.transparency.ct_precert import parse_sct_list
from lacre.x509.certificates import extension_map


def verify_embedded_scts(
    leaf: x509.Certificate,
    issuer: x509.Certificate,
    root: TrustedRoot,
    *,
    threshold: int = 1,
    issuer_key_hash: bytes | None = None,
) -> None:
    """Require SCTs from at least ``threshold`` distinct trusted CT logs, each verifying.

    An SCT from a log the trusted root does not know, or outside the log key's
    validity, is skipped; one from a known log that does not verify fails.
    ``issuer_key_hash`` is the SHA-256 of ``issuer``'s SubjectPublicKeyInfo,
    computed here when not given.
    """
    scts = _embedded(leaf)
    entry = PrecertEntry(issuer_key_hash or key_hash_of(issuer), _precert_tbs(leaf))
    verified: set[bytes] = set()
    skipped: list[str] = []
    for sct in scts:
        log = root.ctlog(sct.log_id)
        when = dt.datetime.fromtimestamp(sct.timestamp / 1000, dt.UTC)
        if log is None or log.key is None or not log.validity.contains(when):
            skipped.append(f"SCT from {sct.log_id.hex()[:16]} at {when.isoformat()}")
            continue
        try:
            verify_sct(sct, log.key, entry)
        except (VerificationError, InvalidInput) as exc:
            raise VerificationError(f"embedded SCT does not verify: {exc}") from exc
        verified.add(sct.log_id)
    if len(verified) < threshold:
        raise VerificationError(
            "not enough verified SCTs from trusted CT logs",
            expected=f">= {threshold}",
            found=f"{len(verified)} ({'; '.join(skipped) or 'no SCT'} not from a trusted CT log)",
        )


def _embedded(leaf: x509.Certificate) -> list[SignedCertificateTimestamp]:
    try:
        extension = extension_map(leaf).get(ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS)
    except InvalidInput as exc:
        raise VerificationError(f"signing certificate: {exc}") from None
    if extension is None:
        raise VerificationError(
            "signing certificate has no embedded SCT",
            expected="an SCT list extension",
            found="none",
        )
    try:
        return parse_sct_list(extension.value.public_bytes())
    except InvalidInput as exc:
        raise VerificationError(f"embedded SCT list is malformed: {exc}") from exc


def _precert_tbs(leaf: x509.Certificate) -> bytes:
    try:
        return leaf.tbs_precertificate_bytes
    except ValueError as exc:
        raise VerificationError(f"cannot rebuild the precertificate TBS: {exc}") from None
