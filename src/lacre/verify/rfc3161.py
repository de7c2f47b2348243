"""RFC 3161 timestamp responses read for verification.

:func:`parse_response` reads what a verifier needs from a ``TimeStampResp``
and refuses anything that is not one: its status must be ``granted``, its token
a CMS ``SignedData`` (RFC 5652) over a ``TSTInfo`` in the versions RFC 5652
allows, with exactly one ``SignerInfo`` carrying signed attributes (the ones a
verifier reads once, with one value), hash algorithms SHA-1 (ESS only) or
SHA-2 with absent or NULL parameters, and X.509 certificates only. What it
reads is checked against a trusted authority by :mod:`lacre.verify.tsa`.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import Any

from asn1crypto import core, parser, tsp
from cryptography import x509

from lacre.errors import VerificationError

_HASHES = frozenset({"sha256", "sha384", "sha512"})
_ESS_HASHES = frozenset({"sha1", *_HASHES})


def _oid(dotted: str) -> bytes:
    """The DER contents of an OBJECT IDENTIFIER: fields are matched by these bytes."""
    contents: bytes = core.ObjectIdentifier(dotted).contents
    return contents


_HASH_NAMES = {
    _oid("1.3.14.3.2.26"): "sha1",
    _oid("2.16.840.1.101.3.4.2.1"): "sha256",
    _oid("2.16.840.1.101.3.4.2.2"): "sha384",
    _oid("2.16.840.1.101.3.4.2.3"): "sha512",
}
_SIGNATURE_ALGORITHMS = {
    # For each signatureAlgorithm: the key type it needs and the digest it implies, if any.
    _oid("1.2.840.10045.2.1"): ("ec", None),
    _oid("1.2.840.10045.4.3.2"): ("ec", "sha256"),
    _oid("1.2.840.10045.4.3.3"): ("ec", "sha384"),
    _oid("1.2.840.10045.4.3.4"): ("ec", "sha512"),
    _oid("1.2.840.113549.1.1.1"): ("rsa", None),
    _oid("1.2.840.113549.1.1.11"): ("rsa", "sha256"),
    _oid("1.2.840.113549.1.1.12"): ("rsa", "sha384"),
    _oid("1.2.840.113549.1.1.13"): ("rsa", "sha512"),
}
_SIGNED_DATA = _oid("1.2.840.113549.1.7.2")
_NULL = b"\x05\x00"
TST_INFO = _oid("1.2.840.113549.1.9.16.1.4")
_CONTENT_TYPE = _oid("1.2.840.113549.1.9.3")
_MESSAGE_DIGEST = _oid("1.2.840.113549.1.9.4")
_SIGNING_CERTIFICATE = _oid("1.2.840.113549.1.9.16.2.12")
_SIGNING_CERTIFICATE_V2 = _oid("1.2.840.113549.1.9.16.2.47")
_MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)
"""What asn1crypto raises for input that does not parse as the structure read."""


@dataclass(frozen=True)
class SignerId:
    """How a SignerInfo names its certificate: ``IssuerAndSerialNumber`` DER, or a key ID."""

    issuer_and_serial: bytes = b""
    key_id: bytes | None = None

    def names(self, certificate: x509.Certificate) -> bool:
        """Whether this identifier names ``certificate``."""
        if self.key_id is not None:
            found = _subject_key_id(certificate)
            return found is not None and hmac.compare_digest(found, self.key_id)
        return self.issuer_and_serial == _issuer_and_serial(certificate)


def _issuer_and_serial(certificate: x509.Certificate) -> bytes:
    """The DER ``IssuerAndSerialNumber`` of ``certificate``."""
    serial: bytes = core.Integer(certificate.serial_number).dump()
    sequence: bytes = parser.emit(0, 1, 16, certificate.issuer.public_bytes() + serial)
    return sequence


@dataclass(frozen=True)
class TimestampToken:
    """What a verifier checks of one ``TimeStampResp``.

    ``signature_key_kind`` is ``ec`` or ``rsa`` for the signature algorithms
    lacre knows (empty otherwise) and ``signature_digest`` the digest the
    algorithm names, if it names one.
    """

    signer: SignerId
    embedded: tuple[bytes, ...]
    content: bytes
    content_type: bytes
    message_digest: bytes
    ess_hash: str | None
    ess_cert_hash: bytes
    digest_name: str
    signature_algorithm: str
    signature_key_kind: str
    signature_digest: str | None
    signed_attributes: bytes
    signature: bytes
    imprint_hash: str
    imprint: bytes
    gen_time: dt.datetime


def parse_response(data: bytes) -> TimestampToken:
    """Read a DER ``TimeStampResp``; raise :class:`VerificationError` if it is not one."""
    try:
        return _token(data)
    except _MALFORMED as exc:  # asn1crypto parses lazily: a bad field fails where it is read
        raise VerificationError(
            "not a DER TimeStampResp", expected="a granted TimeStampResp", found=str(exc)
        ) from None


def _token(data: bytes) -> TimestampToken:
    outer = core.Sequence.load(data, strict=True)
    status = tsp.PKIStatusInfo.load(outer.contents)["status"].native  # a rejection has no token
    if status != "granted":
        raise VerificationError("timestamp was not granted", expected="granted", found=status)
    response = tsp.TimeStampResp.load(data, strict=True)
    token = response["time_stamp_token"]
    signed_data = token["content"]
    encapsulated = signed_data["encap_content_info"]
    kinds = (token["content_type"].contents, encapsulated["content_type"].contents)
    if kinds != (_SIGNED_DATA, TST_INFO):
        raise VerificationError(
            "timestamp token is not a SignedData over a TSTInfo",
            expected="signed_data / tst_info",
            found=" / ".join(dotted(kind) for kind in kinds),
        )
    signers = signed_data["signer_infos"]
    if len(signers) != 1:
        raise VerificationError(
            "timestamp token signer count", expected="exactly one SignerInfo", found=len(signers)
        )
    signer = signers[0]
    signed_attributes = _as_set(signer["signed_attrs"])  # before reading them re-encodes them
    digest_name = _algorithm(signer["digest_algorithm"], "SignerInfo digest algorithm")
    algorithm = signer["signature_algorithm"]["algorithm"]
    key_kind, implied = _SIGNATURE_ALGORITHMS.get(algorithm.contents, ("", None))
    _check_structure(signed_data, signer, digest_name)
    content = _content(encapsulated["content"])
    attributes = _attributes(signer["signed_attrs"])
    info = tsp.TSTInfo.load(content, strict=True)
    if info["version"].native != "v1":
        raise VerificationError("TSTInfo version", expected="v1", found=info["version"].native)
    imprint = info["message_imprint"]
    ess_hash, ess_cert_hash = _ess(attributes)
    return TimestampToken(
        signer=_signer_id(signer["sid"]),
        embedded=_embedded(signed_data["certificates"]),
        content=content,
        content_type=_attribute(attributes, _CONTENT_TYPE, "contentType").contents,
        message_digest=_octets(_attribute(attributes, _MESSAGE_DIGEST, "messageDigest")),
        ess_hash=ess_hash,
        ess_cert_hash=ess_cert_hash,
        digest_name=digest_name,
        signature_algorithm=algorithm.dotted,
        signature_key_kind=key_kind,
        signature_digest=implied,
        signed_attributes=signed_attributes,
        signature=_octets(signer["signature"]),
        imprint_hash=_algorithm(imprint["hash_algorithm"], "message imprint algorithm"),
        imprint=_octets(imprint["hashed_message"]),
        gen_time=_utc(info["gen_time"].native),
    )


def _check_structure(signed_data: Any, signer: Any, digest_name: str) -> None:
    """Versions RFC 5652 allows here; the signer's digest among the SignedData's; every field read.

    asn1crypto checks a field only when it is read: the fields no other check
    reads are read here, so that a malformed one is refused too.
    """
    version = signed_data["version"].native
    if version not in ("v1", "v3", "v4", "v5"):
        raise VerificationError("SignedData version", expected="v1, v3, v4 or v5", found=version)
    by_key_id = signer["sid"].name == "subject_key_identifier"
    expected = "v3" if by_key_id else "v1"
    if signer["version"].native != expected:
        raise VerificationError(
            "SignerInfo version does not fit its signer identifier",
            expected=expected,
            found=signer["version"].native,
        )
    algorithms = signed_data["digest_algorithms"]
    listed = [_algorithm(item, "SignedData digest algorithm", _ESS_HASHES) for item in algorithms]
    if digest_name not in listed:
        raise VerificationError(
            "SignedData digest algorithms do not list the signer's", expected=digest_name
        )
    signed_data["crls"].native  # noqa: B018 - read to be checked
    signer["unsigned_attrs"].native  # noqa: B018 - read to be checked


def _content(content: Any) -> bytes:
    if not content.contents:
        raise VerificationError("timestamp token has no TSTInfo", expected="eContent", found="none")
    if content.method != 0:
        raise VerificationError(
            "timestamp TSTInfo is not DER", expected="a primitive OCTET STRING", found="constructed"
        )
    data: bytes = content.contents
    return data


def _attributes(attributes: Any) -> dict[bytes, Any]:
    """The value of each signed attribute, by the DER contents of its type."""
    if not attributes:
        raise VerificationError("timestamp has no signed attributes", expected="signedAttrs")
    found: dict[bytes, Any] = {}
    for attribute in attributes:
        kind = attribute["type"].contents
        values = attribute["values"]
        if kind in found or len(values) != 1:
            raise VerificationError(
                f"timestamp signed attribute {dotted(kind)} must appear once, with one value"
            )
        found[kind] = values[0]
    return found


def _as_set(attributes: Any) -> bytes:
    """The signed attributes as signed: their received contents under a SET OF header.

    Read before any attribute is: asn1crypto re-encodes a structure whose
    children were parsed, and the signature covers the bytes as received.
    """
    signed: bytes = parser.emit(0, 1, 17, attributes.contents)  # universal, constructed, SET
    return signed


def _attribute(attributes: dict[bytes, Any], kind: bytes, name: str) -> Any:
    if kind not in attributes:
        raise VerificationError(f"timestamp has no {name} signed attribute", expected=name)
    return attributes[kind]


def _ess(attributes: dict[bytes, Any]) -> tuple[str | None, bytes]:
    if _SIGNING_CERTIFICATE_V2 in attributes:
        first = attributes[_SIGNING_CERTIFICATE_V2]["certs"][0]
        name = _algorithm(first["hash_algorithm"], "ESSCertIDv2 hash algorithm", _ESS_HASHES)
        return name, _octets(first["cert_hash"])
    if _SIGNING_CERTIFICATE in attributes:
        return "sha1", _octets(attributes[_SIGNING_CERTIFICATE]["certs"][0]["cert_hash"])
    return None, b""


def _octets(value: Any) -> bytes:
    """The contents of a primitive OCTET STRING (asn1crypto refuses other types on reading)."""
    if not isinstance(value, core.OctetString) or value.method != 0:
        raise VerificationError("timestamp field", expected="a primitive OCTET STRING")
    contents: bytes = value.contents
    return contents


def _signer_id(sid: Any) -> SignerId:
    if sid.name == "subject_key_identifier":
        return SignerId(key_id=_octets(sid.chosen))
    return SignerId(issuer_and_serial=sid.chosen.dump())


def _embedded(certificates: Any) -> tuple[bytes, ...]:
    """The encoding of each certificate the token carries (other kinds are refused)."""
    if not certificates:
        return ()
    if any(item.name != "certificate" for item in certificates):
        raise VerificationError("timestamp embeds a certificate of another kind than X.509")
    return tuple(item.chosen.dump() for item in certificates)


def _algorithm(identifier: Any, what: str, allowed: frozenset[str] = _HASHES) -> str:
    """The name of a hash AlgorithmIdentifier (parameters absent or NULL) among ``allowed``."""
    oid = identifier["algorithm"]
    name = _HASH_NAMES.get(oid.contents)
    if name not in allowed:
        raise VerificationError(what, expected=" or ".join(sorted(allowed)), found=oid.dotted)
    parameters = identifier["parameters"]
    if not isinstance(parameters, core.Void) and parameters.dump() != _NULL:
        raise VerificationError(f"{what} parameters", expected="absent or NULL", found="a value")
    return str(name)


def dotted(contents: bytes) -> str:
    """The dotted form of the OBJECT IDENTIFIER whose DER contents are ``contents``."""
    dotted: str = core.ObjectIdentifier.load(parser.emit(0, 0, 6, contents)).dotted
    return dotted


def _subject_key_id(certificate: x509.Certificate) -> bytes | None:
    """The subject key identifier of ``certificate``, if it has a readable one."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except (x509.ExtensionNotFound, ValueError, x509.DuplicateExtension):
        return None
    return extension.value.digest


def _utc(moment: object) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        raise VerificationError("TSTInfo genTime is not a time", found=type(moment).__name__)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
