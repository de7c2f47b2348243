"""Log entry bodies compared with the bundle they should describe (check F.4).

The canonicalized body is parsed according to its kind and compared field by
field with the bundle: the artifact (or DSSE payload) digest, the signature and
the signing certificate or key. Supported: hashedrekord 0.0.1 and 0.0.2, dsse
0.0.1 and 0.0.2, intoto 0.0.2.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import PublicKey
from lacre.models import protojson as pj
from lacre.models.bundle import HASH_ALGORITHMS, Bundle
from lacre.models.tlog_entry import TransparencyLogEntry
from lacre.record import record
from lacre.verify.artifact import Artifact
from lacre.x509.certificates import UNREADABLE_CERTIFICATE

if TYPE_CHECKING:
    from lacre.dsse import Envelope

_V1_HASHES = ("sha256", "sha384", "sha512")
_PEM_BEGIN = b"-----BEGINCERTIFICATE-----"
_PEM_END = b"-----ENDCERTIFICATE-----"


# Never compared or printed: no generated __eq__ and __repr__ (each costs start-up time).
@record(eq=False, repr=False)
class Signed:
    """What the bundle claims was signed, and by whom."""

    bundle: Bundle
    artifact: Artifact
    key: PublicKey
    leaf: x509.Certificate | None

    @property
    def envelope(self) -> Envelope | None:
        """The DSSE envelope, for a DSSE bundle."""
        return self.bundle.dsse_envelope


def check_body(entry: TransparencyLogEntry, signed: Signed) -> None:
    """Raise :class:`VerificationError` unless ``entry``'s body matches the bundle."""
    kind = (entry.kind_version.kind, entry.kind_version.version)
    check = _CHECKS.get(kind)
    if check is None:
        raise VerificationError(
            "unsupported log entry kind",
            expected=", ".join(f"{k} {v}" for k, v in _CHECKS),
            found=f"{kind[0]} {kind[1]}",
        )
    body = _parse(entry.canonicalized_body)
    found = (pj.text(body, "kind", "body"), pj.text(body, "apiVersion", "body"))
    if found != kind:
        raise VerificationError(
            "log entry body kind does not match kindVersion",
            expected=f"{kind[0]} {kind[1]}",
            found=f"{found[0]} {found[1]}",
        )
    try:
        check(pj.child(body, "spec", "body"), signed)
    except VerificationError:
        raise
    except InvalidInput as exc:
        raise VerificationError(f"log entry body is malformed: {exc}") from exc


def _parse(body: bytes) -> Mapping[str, Any]:
    if not body:
        raise VerificationError(
            "log entry has no canonicalized body", expected="the entry body", found="none"
        )
    try:
        return pj.mapping(json.loads(body), "body")
    except (ValueError, RecursionError, InvalidInput) as exc:
        raise VerificationError("log entry body is not a JSON object", found=str(exc)) from None


def _hashedrekord_v1(spec: Mapping[str, Any], signed: Signed) -> None:
    if signed.envelope is not None:
        raise VerificationError(
            "log entry kind does not fit the bundle",
            expected="dsse or intoto for a DSSE bundle",
            found="hashedrekord 0.0.1",
        )
    data = pj.child(pj.child(spec, "data", "spec"), "hash", "spec.data")
    algorithm = pj.text(data, "algorithm", "spec.data.hash")
    if algorithm not in _V1_HASHES:
        raise VerificationError(
            "log entry hash algorithm", expected=" or ".join(_V1_HASHES), found=algorithm
        )
    value = pj.text(data, "value", "spec.data.hash")
    _same_digest(signed.artifact.digest(algorithm).hex(), value.lower(), "artifact digest")
    signature = pj.child(spec, "signature", "spec")
    _same_bytes(signed.bundle.signature, pj.b64bytes(signature, "content", "spec.signature"))
    key = pj.child(signature, "publicKey", "spec.signature")
    _same_signer(pj.b64bytes(key, "content", "spec.signature.publicKey"), signed)


def _hashedrekord_v2(spec: Mapping[str, Any], signed: Signed) -> None:
    inner = pj.child(spec, "hashedRekordV002", "spec")
    data = pj.child(inner, "data", "spec.hashedRekordV002")
    algorithm = pj.text(data, "algorithm", "spec.hashedRekordV002.data")
    if algorithm not in HASH_ALGORITHMS:
        raise VerificationError(
            "log entry hash algorithm", expected=" or ".join(HASH_ALGORITHMS), found=algorithm
        )
    digest = pj.b64bytes(data, "digest", "spec.hashedRekordV002.data")
    hash_name = HASH_ALGORITHMS[algorithm]
    envelope = signed.envelope
    if envelope is not None:
        expected = hashlib.new(hash_name, envelope.pae()).digest()
        _same_digest(expected.hex(), digest.hex(), "digest of the DSSE envelope (PAE)")
    else:
        _same_digest(signed.artifact.digest(hash_name).hex(), digest.hex(), "artifact digest")
    signature = pj.child(inner, "signature", "spec.hashedRekordV002")
    where = "spec.hashedRekordV002.signature"
    _same_bytes(signed.bundle.signature, pj.b64bytes(signature, "content", where))
    _same_verifier(pj.child(signature, "verifier", where), signed, f"{where}.verifier")


def _dsse_v1(spec: Mapping[str, Any], signed: Signed) -> None:
    envelope = _require_envelope(signed, "dsse 0.0.1")
    payload_hash = pj.child(spec, "payloadHash", "spec")
    _same_digest(
        hashlib.sha256(envelope.payload).hexdigest(),
        pj.text(payload_hash, "value", "spec.payloadHash").lower(),
        "DSSE payload hash",
    )
    item = _only(pj.array(spec, "signatures", "spec"), "spec.signatures")
    _same_bytes(envelope.signatures[0].sig, pj.b64bytes(item, "signature", "spec.signatures[0]"))
    _same_signer(pj.b64bytes(item, "verifier", "spec.signatures[0]"), signed)


def _intoto_v2(spec: Mapping[str, Any], signed: Signed) -> None:
    envelope = _require_envelope(signed, "intoto 0.0.2")
    content = pj.child(spec, "content", "spec")
    payload_hash = pj.child(content, "payloadHash", "spec.content")
    _same_digest(
        hashlib.sha256(envelope.payload).hexdigest(),
        pj.text(payload_hash, "value", "spec.content.payloadHash").lower(),
        "DSSE payload hash",
    )
    logged = pj.child(content, "envelope", "spec.content")
    item = _only(pj.array(logged, "signatures", "spec.content.envelope"), "signatures")
    where = "spec.content.envelope.signatures[0]"
    once = pj.b64bytes(item, "sig", where)
    sig = pj.decode_b64(once.decode("ascii", errors="replace"), f"{where}.sig (inner base64)")
    _same_bytes(envelope.signatures[0].sig, sig)
    _same_signer(pj.b64bytes(item, "publicKey", where), signed)


def _dsse_v2(spec: Mapping[str, Any], signed: Signed) -> None:
    envelope = _require_envelope(signed, "dsse 0.0.2")
    inner = pj.child(spec, "dsseV002", "spec")
    payload_hash = pj.child(inner, "payloadHash", "spec.dsseV002")
    _same_digest(
        hashlib.sha256(envelope.payload).hexdigest(),
        pj.b64bytes(payload_hash, "digest", "spec.dsseV002.payloadHash").hex(),
        "DSSE payload hash",
    )
    item = _only(pj.array(inner, "signatures", "spec.dsseV002"), "spec.dsseV002.signatures")
    where = "spec.dsseV002.signatures[0]"
    _same_bytes(envelope.signatures[0].sig, pj.b64bytes(item, "content", where))
    _same_verifier(pj.child(item, "verifier", where), signed, f"{where}.verifier")


def _require_envelope(signed: Signed, kind: str) -> Envelope:
    if signed.envelope is None:
        raise VerificationError(
            "log entry kind does not fit the bundle",
            expected="hashedrekord for a message signature",
            found=kind,
        )
    return signed.envelope


def _only(items: list[Any], path: str) -> Mapping[str, Any]:
    if len(items) != 1:
        raise VerificationError(
            f"log entry {path}", expected="exactly one signature", found=len(items)
        )
    return pj.mapping(items[0], f"{path}[0]")


def _same_digest(expected: str, found: str, what: str) -> None:
    if not hmac.compare_digest(expected.encode(), found.encode()):
        raise VerificationError(
            f"log entry does not match the bundle: {what}", expected=expected, found=found
        )


def _same_bytes(expected: bytes, found: bytes) -> None:
    if not hmac.compare_digest(expected, found):
        raise VerificationError(
            "log entry does not match the bundle: signature",
            expected=pj.b64(expected)[:160],
            found=pj.b64(found)[:160],
        )


def _same_signer(pem: bytes, signed: Signed) -> None:
    """Compare a PEM certificate or public key from a body with the bundle's signer."""
    if b"CERTIFICATE" in pem:
        if not _pem_holds(pem, signed.bundle.material.leaf):
            _same_certificate(_certificate(pem, x509.load_pem_x509_certificate), signed)
    else:
        _same_key(PublicKey.from_pem(pem), signed)


def _pem_holds(pem: bytes, der: bytes | None) -> bool:
    """Whether ``pem`` is exactly one CERTIFICATE block encoding the bytes ``der``.

    A quick exact comparison; anything else (other line lengths, several blocks)
    is compared certificate to certificate instead.
    """
    if der is None:
        return False
    compact = b"".join(pem.split())
    expected = _PEM_BEGIN + base64.b64encode(der) + _PEM_END
    return hmac.compare_digest(compact, expected)


def _same_verifier(verifier: Mapping[str, Any], signed: Signed, path: str) -> None:
    certificate = pj.optional_child(verifier, "x509Certificate", path)
    if certificate is not None:
        der = pj.b64bytes(certificate, "rawBytes", f"{path}.x509Certificate")
        leaf_der = signed.bundle.material.leaf
        if leaf_der is None or not hmac.compare_digest(der, leaf_der):
            _same_certificate(_certificate(der, x509.load_der_x509_certificate), signed)
    else:
        key = pj.child(verifier, "publicKey", path)
        _same_key(PublicKey.from_der(pj.b64bytes(key, "rawBytes", f"{path}.publicKey")), signed)
    details = pj.text(verifier, "keyDetails", path, default="")
    default = signed.key.default_details().key_details
    if details and details != default:
        raise VerificationError("log entry verifier key details", expected=default, found=details)


def _certificate(data: bytes, load: Callable[[bytes], x509.Certificate]) -> x509.Certificate:
    try:
        return load(data)
    except UNREADABLE_CERTIFICATE as exc:
        raise VerificationError(f"log entry certificate is malformed: {exc}") from None


def _same_certificate(found: x509.Certificate, signed: Signed) -> None:
    if signed.leaf is None:
        raise VerificationError(
            "log entry does not match the bundle: signer",
            expected="the managed public key",
            found="a certificate",
        )
    expected = signed.leaf.public_bytes(serialization.Encoding.DER)
    if not hmac.compare_digest(found.public_bytes(serialization.Encoding.DER), expected):
        raise VerificationError(
            "log entry does not match the bundle: signing certificate",
            expected=f"serial {signed.leaf.serial_number:x}",
            found=f"serial {found.serial_number:x}",
        )


def _same_key(found: PublicKey, signed: Signed) -> None:
    if signed.leaf is not None or not hmac.compare_digest(found.spki_der, signed.key.spki_der):
        raise VerificationError(
            "log entry does not match the bundle: public key",
            expected=f"key {signed.key.key_id.hex()[:16]}"
            + (" (in a certificate)" if signed.leaf is not None else ""),
            found=f"key {found.key_id.hex()[:16]}",
        )


_CHECKS: dict[tuple[str, str], Callable[[Mapping[str, Any], Signed], None]] = {
    ("hashedrekord", "0.0.1"): _hashedrekord_v1,
    ("hashedrekord", "0.0.2"): _hashedrekord_v2,
    ("dsse", "0.0.1"): _dsse_v1,
    ("intoto", "0.0.2"): _intoto_v2,
    ("dsse", "0.0.2"): _dsse_v2,
}
