"""Between Sigstore bundles and cosign's legacy signature layers.

Signing: a bundle whose signature was logged in a Rekor v1 log becomes a
``.sig`` or ``.att`` layer — the signature, the PEM certificate and CA chain,
and the log entry's inclusion promise (SET) with the canonicalized body as
``dev.sigstore.cosign/bundle``. Verifying: a layer becomes the equivalent
bundle (certificate or key, the log entry with its SET, any RFC 3161
timestamp, and the message signature or DSSE envelope) that
:class:`lacre.verify.Verifier` checks like any other.
"""

from __future__ import annotations

import hashlib
import json

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lacre.dsse import Envelope
from lacre.errors import ConfigError, InvalidInput, VerificationError
from lacre.models.bundle import Bundle, MessageSignature, VerificationMaterial
from lacre.models.tlog_entry import KindVersion, TransparencyLogEntry
from lacre.models.trust_reader import TrustedRoot
from lacre.oci import mediatypes as mt
from lacre.oci.legacy import SignatureLayer
from lacre.oci.rekorbundle import RekorBundle
from lacre.verify.chain import check_issued_by
from lacre.x509.certificates import UNREADABLE_CERTIFICATE, canonical_pem

LEGACY_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle+json;version=0.1"
"""The bundle version a legacy signature is equivalent to (SET, no inclusion proof)."""
LEGACY_KEY_HINT = "legacy-signature"
"""The key hint of a key-signed legacy signature turned into a bundle."""


def signature_layer(
    bundle: Bundle, payload: bytes, root: TrustedRoot, *, predicate_type: str | None = None
) -> SignatureLayer:
    """The legacy layer storing ``bundle``, which signs ``payload``.

    ``payload`` is a simple-signing payload, or with ``predicate_type`` the DSSE
    envelope JSON of an attestation.
    """
    entry = _rekor_v1_entry(bundle)
    leaf = _leaf(bundle)
    promise = RekorBundle(
        signed_entry_timestamp=entry.inclusion_promise or b"",
        body=entry.canonicalized_body,
        integrated_time=entry.integrated_time,
        log_index=entry.log_index,
        log_id=entry.log_id.hex(),
    )
    attestation = predicate_type is not None
    return SignatureLayer(
        media_type=mt.DSSE_ENVELOPE if attestation else mt.SIMPLE_SIGNING,
        blob=payload,
        signature=b"" if attestation else bundle.signature,
        certificate=None if leaf is None else _pem(leaf),
        chain=None if leaf is None else chain_pem(leaf, root),
        rekor_bundle=promise,
        rfc3161_timestamp=bundle.material.timestamps[0] if bundle.material.timestamps else None,
        predicate_type=predicate_type,
    )


def envelope_json(bundle: Bundle) -> bytes:
    """The DSSE envelope of ``bundle`` as cosign stores it in an ``.att`` layer."""
    if bundle.dsse_envelope is None:
        raise InvalidInput("an attestation bundle holds a DSSE envelope", found="none")
    return json.dumps(bundle.dsse_envelope.to_json(), separators=(",", ":")).encode()


def chain_pem(leaf: x509.Certificate, root: TrustedRoot) -> str | None:
    """The PEM chain (intermediates, root) of the trusted-root CA that issued ``leaf``."""
    for authority in root.certificate_authorities:
        if authority.chain and _issued_by(leaf, authority.chain[0]):
            return "".join(_pem(cert) for cert in authority.chain)
    return None


def bundle_of_layer(layer: SignatureLayer) -> Bundle:
    """The bundle a legacy layer is equivalent to; InvalidInput if it lacks its evidence."""
    if layer.rekor_bundle is None:
        raise InvalidInput(
            "the legacy signature has no Rekor bundle annotation",
            expected=f"a {mt.ANNOTATION_BUNDLE} annotation",
            found="none",
        )
    material = VerificationMaterial(
        certificates=() if layer.certificate is None else (_der(layer.certificate),),
        public_key_hint=LEGACY_KEY_HINT if layer.certificate is None else None,
        tlog_entries=(_entry(layer.rekor_bundle),),
        timestamps=() if layer.rfc3161_timestamp is None else (layer.rfc3161_timestamp,),
    )
    if layer.media_type == mt.DSSE_ENVELOPE:
        return Bundle(
            media_type=LEGACY_MEDIA_TYPE, material=material, dsse_envelope=_envelope(layer.blob)
        )
    if not layer.signature:
        raise InvalidInput("the legacy signature layer has an empty signature annotation")
    message = MessageSignature(
        signature=layer.signature,
        digest_algorithm="SHA2_256",
        digest=hashlib.sha256(layer.blob).digest(),
    )
    return Bundle(media_type=LEGACY_MEDIA_TYPE, material=material, message_signature=message)


def _entry(promise: RekorBundle) -> TransparencyLogEntry:
    try:
        body = json.loads(promise.body)
        kind = KindVersion(kind=str(body["kind"]), version=str(body["apiVersion"]))
    except (ValueError, TypeError, KeyError):
        raise InvalidInput(
            "the Rekor bundle's body is not a log entry",
            expected="JSON with kind and apiVersion",
        ) from None
    return TransparencyLogEntry(
        log_index=promise.log_index,
        log_id=bytes.fromhex(promise.log_id),
        kind_version=kind,
        integrated_time=promise.integrated_time,
        inclusion_promise=promise.signed_entry_timestamp,
        canonicalized_body=promise.body,
    )


def _envelope(blob: bytes) -> Envelope:
    envelope = Envelope.from_json(blob, path="attestation layer")
    if len(envelope.signatures) != 1:
        raise InvalidInput(
            "the attestation envelope must hold one signature",
            expected=1,
            found=len(envelope.signatures),
        )
    return envelope


def _rekor_v1_entry(bundle: Bundle) -> TransparencyLogEntry:
    for entry in bundle.material.tlog_entries:
        if entry.inclusion_promise is not None and entry.integrated_time:
            return entry
    raise ConfigError(
        "cosign's legacy storage needs a Rekor v1 log entry (with a signed entry timestamp)",
        expected="signing with a Rekor v1 log (--rekor-version 1)",
        found="no entry with an inclusion promise",
    )


def _leaf(bundle: Bundle) -> x509.Certificate | None:
    leaf = bundle.material.leaf
    return None if leaf is None else x509.load_der_x509_certificate(leaf)


def _issued_by(leaf: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        check_issued_by(leaf, issuer)
    except VerificationError:
        return False
    return True


def _pem(cert: x509.Certificate) -> str:
    return canonical_pem(cert).decode()


def _der(pem: str) -> bytes:
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except UNREADABLE_CERTIFICATE:
        raise InvalidInput(
            "the legacy signature's certificate annotation is not a PEM certificate",
            found=repr(pem[:60]),
        ) from None
    return cert.public_bytes(serialization.Encoding.DER)
