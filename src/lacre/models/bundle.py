"""Sigstore bundles, versions 0.1, 0.2 and 0.3: parsing with clear errors, and v0.3 output.

:meth:`Bundle.parse` applies the structural rules of the bundle format: a known
media type, exactly one of a message signature and a DSSE envelope (with exactly
one signature), the verification material each version allows, and the log
evidence each version requires. Cryptographic checks belong to
:mod:`lacre.verify`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lacre.errors import InvalidInput, TooLarge
from lacre.jsontypes import MISSING
from lacre.models import protojson as pj
from lacre.models.tlog_entry import TransparencyLogEntry, is_rekor_v2
from lacre.record import field, record

if TYPE_CHECKING:
    from lacre.dsse import Envelope

MEDIA_TYPE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
"""The canonical media type of bundles this package writes."""
MEDIA_TYPES: dict[str, str] = {
    "application/vnd.dev.sigstore.bundle+json;version=0.1": "0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2": "0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3": "0.3",
    MEDIA_TYPE_V03: "0.3",
}
MAX_BUNDLE_BYTES = 32 << 20
"""The largest bundle document :meth:`Bundle.parse` reads."""
MAX_CERTIFICATES = 10
MAX_TLOG_ENTRIES = 32
MAX_TIMESTAMPS = 32
HASH_ALGORITHMS = {"SHA2_256": "sha256", "SHA2_384": "sha384", "SHA2_512": "sha512"}
"""Protobuf ``HashAlgorithm`` names and the hash they denote."""


@record(kw_only=True)
class MessageSignature:
    """A signature over the artifact, with the artifact digest as an (unsigned) hint."""

    signature: bytes
    digest_algorithm: str | None = None
    digest: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        """The protobuf-JSON ``MessageSignature`` object."""
        document: dict[str, Any] = {}
        if self.digest is not None:
            document["messageDigest"] = {
                "algorithm": self.digest_algorithm or "SHA2_256",
                "digest": pj.b64(self.digest),
            }
        document["signature"] = pj.b64(self.signature)
        return document


@record(kw_only=True)
class VerificationMaterial:
    """How to verify: a certificate (chain) or a key hint, the log entries and timestamps.

    ``certificates`` holds DER certificates, the leaf first; it is empty when
    ``public_key_hint`` is set.
    """

    certificates: tuple[bytes, ...] = ()
    public_key_hint: str | None = None
    tlog_entries: tuple[TransparencyLogEntry, ...] = ()
    timestamps: tuple[bytes, ...] = ()

    @property
    def leaf(self) -> bytes | None:
        """The DER signing certificate, or None for a key-based bundle."""
        return self.certificates[0] if self.certificates else None


@record(kw_only=True)
class Bundle:
    """A parsed Sigstore bundle."""

    media_type: str
    material: VerificationMaterial
    message_signature: MessageSignature | None = None
    dsse_envelope: Envelope | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def version(self) -> str:
        """The bundle format version: ``"0.1"``, ``"0.2"`` or ``"0.3"``."""
        return MEDIA_TYPES[self.media_type]

    @property
    def signature(self) -> bytes:
        """The raw signature bytes: the message signature or the DSSE signature."""
        if self.dsse_envelope is not None:
            return self.dsse_envelope.signatures[0].sig
        assert self.message_signature is not None
        return self.message_signature.signature

    @classmethod
    def parse(cls, data: bytes | str) -> Bundle:
        """Parse a bundle document (JSON text) strictly."""
        return cls.from_json(pj.load_document(data, "bundle", limit=MAX_BUNDLE_BYTES))

    @classmethod
    def from_json(cls, value: object) -> Bundle:
        """Build a bundle from its parsed JSON object."""
        document = pj.mapping(value, "bundle")
        media_type = pj.text(document, "mediaType", "bundle")
        if media_type not in MEDIA_TYPES:
            raise InvalidInput(
                "bundle.mediaType is not a supported bundle version",
                expected=" or ".join(sorted(MEDIA_TYPES)),
                found=repr(media_type),
            )
        version = MEDIA_TYPES[media_type]
        message, envelope = _content(document)
        material = _material(pj.child(document, "verificationMaterial", "bundle"), version)
        return cls(
            media_type=media_type,
            material=material,
            message_signature=message,
            dsse_envelope=envelope,
            raw=document,
        )

    def to_json(self) -> dict[str, Any]:
        """The protobuf-JSON form of this bundle, written as version 0.3."""
        material: dict[str, Any] = {}
        if self.material.public_key_hint is not None:
            material["publicKey"] = {"hint": self.material.public_key_hint}
        elif self.material.leaf is not None:
            material["certificate"] = {"rawBytes": pj.b64(self.material.leaf)}
        material["tlogEntries"] = [entry.to_json() for entry in self.material.tlog_entries]
        if self.material.timestamps:
            material["timestampVerificationData"] = {
                "rfc3161Timestamps": [
                    {"signedTimestamp": pj.b64(item)} for item in self.material.timestamps
                ]
            }
        document: dict[str, Any] = {"mediaType": MEDIA_TYPE_V03, "verificationMaterial": material}
        if self.dsse_envelope is not None:
            document["dsseEnvelope"] = self.dsse_envelope.to_json()
        elif self.message_signature is not None:
            document["messageSignature"] = self.message_signature.to_json()
        return document

    def to_bytes(self) -> bytes:
        """Serialise as version 0.3 JSON text."""
        return json.dumps(self.to_json(), indent=None, separators=(",", ":")).encode()


def _content(document: Mapping[str, Any]) -> tuple[MessageSignature | None, Envelope | None]:
    message = pj.optional_child(document, "messageSignature", "bundle")
    envelope = pj.optional_child(document, "dsseEnvelope", "bundle")
    if (message is None) == (envelope is None):
        raise InvalidInput(
            "bundle content",
            expected="exactly one of messageSignature and dsseEnvelope",
            found="both" if message is not None else "neither",
        )
    if message is not None:
        return _message_signature(message), None
    assert envelope is not None
    from lacre.models.envelope import parse_envelope

    parsed = parse_envelope(envelope, "bundle.dsseEnvelope")
    if len(parsed.signatures) != 1:
        raise InvalidInput(
            "bundle.dsseEnvelope.signatures",
            expected="exactly one signature",
            found=f"{len(parsed.signatures)} signatures",
        )
    return None, parsed


def _message_signature(document: Mapping[str, Any]) -> MessageSignature:
    path = "bundle.messageSignature"
    signature = pj.b64bytes(document, "signature", path)
    if not signature:
        raise InvalidInput(f"{path}.signature is empty", expected="signature bytes", found="''")
    digest = pj.optional_child(document, "messageDigest", path)
    if digest is None:
        return MessageSignature(signature=signature)
    where = f"{path}.messageDigest"
    algorithm = pj.text(digest, "algorithm", where)
    if algorithm not in HASH_ALGORITHMS:
        raise InvalidInput(
            f"{where}.algorithm", expected=" or ".join(HASH_ALGORITHMS), found=repr(algorithm)
        )
    return MessageSignature(
        signature=signature,
        digest_algorithm=algorithm,
        digest=pj.b64bytes(digest, "digest", where),
    )


def _material(document: Mapping[str, Any], version: str) -> VerificationMaterial:
    path = "bundle.verificationMaterial"
    certificates, hint = _signer(document, version, path)
    entries = pj.array(document, "tlogEntries", path)
    _limit(entries, MAX_TLOG_ENTRIES, f"{path}.tlogEntries")
    parsed = tuple(
        TransparencyLogEntry.from_json(item, f"{path}.tlogEntries[{n}]")
        for n, item in enumerate(entries)
    )
    for n, entry in enumerate(parsed):
        _check_evidence(entry, version, f"{path}.tlogEntries[{n}]")
    return VerificationMaterial(
        certificates=certificates,
        public_key_hint=hint,
        tlog_entries=parsed,
        timestamps=_timestamps(document, path),
    )


def _signer(
    document: Mapping[str, Any], version: str, path: str
) -> tuple[tuple[bytes, ...], str | None]:
    present = [
        name
        for name in ("x509CertificateChain", "certificate", "publicKey")
        if pj.get(document, name) is not MISSING
    ]
    allowed = (
        ("certificate", "publicKey") if version == "0.3" else ("x509CertificateChain", "publicKey")
    )
    if len(present) != 1 or present[0] not in allowed:
        raise InvalidInput(
            f"{path}: verification material of a v{version} bundle",
            expected="exactly one of " + " and ".join(allowed),
            found=", ".join(present) or "none",
        )
    kind = present[0]
    if kind == "publicKey":
        key = pj.child(document, "publicKey", path)
        return (), pj.text(key, "hint", f"{path}.publicKey", default="")
    if kind == "certificate":
        leaf = pj.child(document, "certificate", path)
        return (_der(leaf, f"{path}.certificate"),), None
    chain = pj.child(document, "x509CertificateChain", path)
    items = pj.array(chain, "certificates", f"{path}.x509CertificateChain")
    if not items:
        raise InvalidInput(
            f"{path}.x509CertificateChain.certificates is empty",
            expected="at least the signing certificate",
            found="an empty array",
        )
    _limit(items, MAX_CERTIFICATES, f"{path}.x509CertificateChain.certificates")
    where = f"{path}.x509CertificateChain.certificates"
    return tuple(_der(item, f"{where}[{n}]") for n, item in enumerate(items)), None


def _der(value: object, path: str) -> bytes:
    der = pj.b64bytes(pj.mapping(value, path), "rawBytes", path)
    if not der:
        raise InvalidInput(f"{path}.rawBytes is empty", expected="a DER certificate", found="''")
    return der


def _timestamps(document: Mapping[str, Any], path: str) -> tuple[bytes, ...]:
    data = pj.optional_child(document, "timestampVerificationData", path)
    if data is None:
        return ()
    where = f"{path}.timestampVerificationData"
    items = pj.array(data, "rfc3161Timestamps", where)
    _limit(items, MAX_TIMESTAMPS, f"{where}.rfc3161Timestamps")
    return tuple(
        pj.b64bytes(
            pj.mapping(item, f"{where}.rfc3161Timestamps[{n}]"),
            "signedTimestamp",
            f"{where}.rfc3161Timestamps[{n}]",
        )
        for n, item in enumerate(items)
    )


def _check_evidence(entry: TransparencyLogEntry, version: str, path: str) -> None:
    if version == "0.1" and entry.inclusion_promise is None:
        raise InvalidInput(
            f"{path}: a v0.1 bundle's log entry needs an inclusion promise",
            expected="inclusionPromise",
            found="none",
        )
    proof = entry.inclusion_proof
    needs_proof = version != "0.1" or is_rekor_v2(entry)
    if needs_proof and (proof is None or proof.checkpoint is None):
        raise InvalidInput(
            f"{path}: a v{version} bundle's log entry needs an inclusion proof with a checkpoint",
            expected="inclusionProof.checkpoint",
            found="no inclusion proof" if proof is None else "no checkpoint",
        )


def _limit(items: list[Any], limit: int, path: str) -> None:
    if len(items) > limit:
        raise TooLarge(f"{path} has too many items", expected=f"<= {limit}", found=len(items))


__all__ = [
    "HASH_ALGORITHMS",
    "MEDIA_TYPES",
    "MEDIA_TYPE_V03",
    "Bundle",
    "MessageSignature",
    "VerificationMaterial",
]
