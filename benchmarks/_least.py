"""The least verifier: what the checks a Rekor v1 bundle needs cost in plain Python.

A measuring stick, not a verifier to use. For the one bundle shape of the main
and public-good sets (a ``hashedrekord`` 0.0.1 entry with an inclusion promise
and an inclusion proof against a checkpoint, a signing certificate with
embedded SCTs, no timestamps) it makes, with ``json``, ``hashlib`` and
``cryptography`` alone and as directly as Python allows, the checks any
verifier of such a bundle must make:

* the certificate: issued by a trusted CA (signature and issuer name), valid
  when the entry was integrated, not a CA, usable for code signing, each
  embedded SCT signed by a trusted CT log over the precertificate;
* the identity: the SAN and the OIDC issuer extension;
* the artifact: its SHA-256 digest, and the signature over it by the
  certificate's key;
* the log entry: its body names that signature, digest and certificate; its
  inclusion promise (SET) is signed by the trusted log; its inclusion proof
  leads from the body to the proof's root; its checkpoint names that root and
  tree size and is signed by the log.

It knows no other shape, reports nothing but the first failed check, and
leaves out what a real verifier does on top: the CA chain's own validity,
lookups by key hint among several keys, bundle and body schema checks, limits
on hostile input, and every message that tells a user why. So it is faster
than any complete verifier: a rate it cannot beat is out of reach for every
verifier written in Python with ``cryptography``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

OIDC_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
"""Fulcio's OIDC issuer extension (a DER UTF8String)."""
MEDIA_TYPES = frozenset(
    {
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "application/vnd.dev.sigstore.bundle+json;version=0.3",
        "application/vnd.dev.sigstore.bundle.v0.3+json",
    }
)
_SHA256_PREHASHED = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class Refused(Exception):
    """A bundle failed one of the least verifier's checks."""


@dataclass(frozen=True)
class LeastTrust:
    """The trusted keys the checks need, read once from a trusted root."""

    cas: Mapping[x509.Name, tuple[ec.EllipticCurvePublicKey, bytes]]
    """Each CA's subject -> its key and the SHA-256 of its SubjectPublicKeyInfo."""
    ctlogs: Mapping[bytes, ec.EllipticCurvePublicKey]
    tlogs: Mapping[bytes, ec.EllipticCurvePublicKey]

    @classmethod
    def parse(cls, trusted_root: bytes) -> LeastTrust:
        """Read the ECDSA keys of ``trusted_root.json`` bytes (the sets' only key type)."""
        document = json.loads(trusted_root)
        cas = {}
        for authority in document["certificateAuthorities"]:
            for raw in authority["certChain"]["certificates"]:
                ca = x509.load_der_x509_certificate(base64.b64decode(raw["rawBytes"]))
                spki = ca.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                )
                cas[ca.subject] = (_ecdsa(ca.public_key()), hashlib.sha256(spki).digest())
        return cls(cas, _log_keys(document["ctlogs"]), _log_keys(document["tlogs"]))


def least_verify(
    bundle: bytes, artifact: bytes, trust: LeastTrust, identity: str, issuer: str
) -> None:
    """Check ``bundle`` over ``artifact`` for ``identity`` and ``issuer``; Refused if not."""
    document = json.loads(bundle)
    _require(document["mediaType"] in MEDIA_TYPES, "media type")
    material = document["verificationMaterial"]
    leaf_b64 = _leaf_b64(material)
    leaf_der = base64.b64decode(leaf_b64)
    leaf = x509.load_der_x509_certificate(leaf_der)
    (entry,) = material["tlogEntries"]
    _require(entry["kindVersion"] == {"kind": "hashedrekord", "version": "0.0.1"}, "entry kind")
    integrated = int(entry["integratedTime"])
    issuer_key_hash = _check_certificate(leaf, leaf_der, trust, integrated)
    extensions = leaf.extensions
    _check_profile(extensions)
    _check_scts(leaf, extensions, trust, issuer_key_hash)
    _check_identity(extensions, identity, issuer)
    digest = hashlib.sha256(artifact).digest()
    message = document["messageSignature"]
    named = message["messageDigest"]
    _require(named["algorithm"] == "SHA2_256", "digest algorithm")
    _require(base64.b64decode(named["digest"]) == digest, "artifact digest")
    signature = base64.b64decode(message["signature"])
    _ecdsa(leaf.public_key()).verify(signature, digest, _SHA256_PREHASHED)
    body = base64.b64decode(entry["canonicalizedBody"])
    _check_body(json.loads(body), message["signature"], digest, leaf_b64)
    log_id = base64.b64decode(entry["logId"]["keyId"])
    log_key = trust.tlogs[log_id]
    _check_promise(entry, integrated, log_id, log_key)
    _check_proof(entry["inclusionProof"], body, log_id, log_key)


def _check_certificate(
    leaf: x509.Certificate, der: bytes, trust: LeastTrust, integrated: int
) -> bytes:
    ca_key, issuer_key_hash = trust.cas[leaf.issuer]
    hashing = leaf.signature_hash_algorithm
    assert hashing is not None
    ca_key.verify(leaf.signature, _tbs(der), ec.ECDSA(hashing))
    at = dt.datetime.fromtimestamp(integrated, dt.UTC)
    _require(leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc, "validity")
    return issuer_key_hash


def _check_profile(extensions: x509.Extensions) -> None:
    found = {extension.oid: extension.value for extension in extensions}
    constraints = found.get(ExtensionOID.BASIC_CONSTRAINTS)
    usage = found.get(ExtensionOID.KEY_USAGE)
    purposes = found.get(ExtensionOID.EXTENDED_KEY_USAGE)
    _require(not isinstance(constraints, x509.BasicConstraints) or not constraints.ca, "not a CA")
    _require(isinstance(usage, x509.KeyUsage) and usage.digital_signature, "key usage")
    _require(
        isinstance(purposes, x509.ExtendedKeyUsage)
        and ExtendedKeyUsageOID.CODE_SIGNING in purposes,
        "code signing",
    )


def _check_scts(
    leaf: x509.Certificate, extensions: x509.Extensions, trust: LeastTrust, key_hash: bytes
) -> None:
    oid = ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS
    tbs = leaf.tbs_precertificate_bytes
    for sct in extensions.get_extension_for_oid(oid).value:  # type: ignore[attr-defined]
        millis = round(sct.timestamp.replace(tzinfo=dt.UTC).timestamp() * 1000)
        signed = b"\x00\x00" + millis.to_bytes(8, "big") + b"\x00\x01" + key_hash
        signed += len(tbs).to_bytes(3, "big") + tbs + b"\x00\x00"
        trust.ctlogs[sct.log_id].verify(sct.signature, signed, _ECDSA_SHA256)


def _check_identity(extensions: x509.Extensions, identity: str, issuer: str) -> None:
    names = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    found = [*names.get_values_for_type(x509.RFC822Name)]
    found += names.get_values_for_type(x509.UniformResourceIdentifier)
    _require(identity in found, "identity")
    encoded = extensions.get_extension_for_oid(OIDC_ISSUER_V2).value.public_bytes()
    _require(encoded[2:] == issuer.encode() and encoded[1] == len(issuer), "issuer")


def _check_body(body: Any, signature_b64: str, digest: bytes, leaf_b64: str) -> None:
    _require(body["kind"] == "hashedrekord" and body["apiVersion"] == "0.0.1", "body kind")
    spec = body["spec"]
    _require(spec["data"]["hash"] == {"algorithm": "sha256", "value": digest.hex()}, "digest")
    _require(spec["signature"]["content"] == signature_b64, "body signature")
    pem = base64.b64decode(spec["signature"]["publicKey"]["content"]).decode()
    _require("".join(pem.splitlines()[1:-1]) == leaf_b64, "body certificate")


def _check_promise(
    entry: Any, integrated: int, log_id: bytes, log_key: ec.EllipticCurvePublicKey
) -> None:
    canonical = (  # RFC 8785 for these fields: base64 and hex need no escaping
        f'{{"body":"{entry["canonicalizedBody"]}","integratedTime":{integrated},'
        f'"logID":"{log_id.hex()}","logIndex":{int(entry["logIndex"])}}}'
    ).encode()
    promise = base64.b64decode(entry["inclusionPromise"]["signedEntryTimestamp"])
    log_key.verify(promise, canonical, _ECDSA_SHA256)


def _check_proof(
    proof: Any, body: bytes, log_id: bytes, log_key: ec.EllipticCurvePublicKey
) -> None:
    size, root_b64 = int(proof["treeSize"]), proof["rootHash"]
    path = [base64.b64decode(node) for node in proof["hashes"]]
    leaf_hash = hashlib.sha256(b"\x00" + body).digest()
    root = _root_from_path(int(proof["logIndex"]), size, leaf_hash, path)
    _require(base64.b64encode(root).decode() == root_b64, "inclusion proof")
    text, _, signatures = proof["checkpoint"]["envelope"].partition("\n\n")
    origin, tree_size, root_line = text.split("\n")[:3]
    _require(tree_size == str(size) and root_line == root_b64, "checkpoint contents")
    for line in signatures.splitlines():
        dash, name, signed_b64 = line.split(" ")
        _require(dash == "\u2014", "signature line")
        signed = base64.b64decode(signed_b64)
        if origin.startswith(f"{name} - ") and signed[:4] == log_id[:4]:
            log_key.verify(signed[4:], f"{text}\n".encode(), _ECDSA_SHA256)
            return
    raise Refused("no checkpoint signature by the log")


def _root_from_path(index: int, size: int, node: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2: the root an inclusion path leads to."""
    _require(index < size, "leaf index")
    first, last = index, size - 1
    for sibling in path:
        _require(last != 0, "path length")
        if first & 1 or first == last:
            node = hashlib.sha256(b"\x01" + sibling + node).digest()
            while not first & 1 and first:
                first, last = first >> 1, last >> 1
        else:
            node = hashlib.sha256(b"\x01" + node + sibling).digest()
        first, last = first >> 1, last >> 1
    _require(last == 0, "path length")
    return node


def _tbs(der: bytes) -> bytes:
    """The to-be-signed part of a DER certificate, sliced out (cryptography re-encodes it)."""
    start = _header_size(der, 0)
    return der[start : start + _header_size(der, start) + _content_size(der, start)]


def _header_size(der: bytes, at: int) -> int:
    first = der[at + 1]
    return 2 if first < 0x80 else 2 + (first & 0x7F)


def _content_size(der: bytes, at: int) -> int:
    first = der[at + 1]
    if first < 0x80:
        return first
    return int.from_bytes(der[at + 2 : at + 2 + (first & 0x7F)], "big")


def _leaf_b64(material: Any) -> str:
    if "certificate" in material:
        return str(material["certificate"]["rawBytes"])
    return str(material["x509CertificateChain"]["certificates"][0]["rawBytes"])


def _log_keys(logs: list[dict[str, Any]]) -> dict[bytes, ec.EllipticCurvePublicKey]:
    """The logs' ECDSA keys by log ID; a bundle of any other log is refused (no key)."""
    keys = {}
    for log in logs:
        key = serialization.load_der_public_key(base64.b64decode(log["publicKey"]["rawBytes"]))
        if isinstance(key, ec.EllipticCurvePublicKey):
            keys[base64.b64decode(log["logId"]["keyId"])] = key
    return keys


def _ecdsa(key: PublicKeyTypes) -> ec.EllipticCurvePublicKey:
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise Refused(f"the least verifier knows ECDSA keys only, not {type(key).__name__}")
    return key


def _require(holds: bool, check: str) -> None:
    if not holds:
        raise Refused(check)
