"""RFC 3161 timestamp responses, read once and checked against trusted timestamp authorities.

:func:`parse_response` reads what a verifier needs from a ``TimeStampResp``
and refuses anything that is not one: its status must be ``granted``, its token
a CMS ``SignedData`` (RFC 5652) encapsulating a ``TSTInfo`` with exactly one
``SignerInfo`` carrying signed attributes, each attribute once with one value.

:meth:`TrustedTsa.verify` then requires, for one authority:

* the signer is the authority's signing certificate (by issuer and serial
  number, or by subject key identifier); a token that embeds certificates
  embeds that certificate and, at most, the rest of the authority's chain;
* the signed attributes hold the ``TSTInfo`` content type, the digest of the
  encapsulated ``TSTInfo`` and an ESS signing-certificate attribute (RFC 2634
  ``ESSCertID`` or RFC 5816 ``ESSCertIDv2``) whose first entry is the digest of
  the authority's certificate;
* the signature over the signed attributes verifies with the authority's key,
  with the SignerInfo's digest algorithm (SHA-256, -384 or -512);
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
from dataclasses import dataclass
from typing import Any

from asn1crypto import core, parser, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import PublicKey
from lacre.verify.lru import Lru

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
_TST_INFO = _oid("1.2.840.113549.1.9.16.1.4")
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
        return self.issuer_and_serial == issuer_and_serial(certificate)


def issuer_and_serial(certificate: x509.Certificate) -> bytes:
    """The DER ``IssuerAndSerialNumber`` of ``certificate``."""
    serial: bytes = core.Integer(certificate.serial_number).dump()
    sequence: bytes = parser.emit(0, 1, 16, certificate.issuer.public_bytes() + serial)
    return sequence


@dataclass(frozen=True)
class TimestampToken:
    """What a verifier checks of one ``TimeStampResp``."""

    signer: SignerId
    embedded: tuple[bytes, ...]
    content: bytes
    content_type: bytes
    message_digest: bytes
    ess_hash: str | None
    ess_cert_hash: bytes
    digest_name: str
    signature_algorithm: bytes
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


class TrustedTsa:
    """A trusted timestamp authority, prepared for checking many tokens.

    ``chain`` is the authority's certificate chain, its signing certificate
    first and its root last.
    """

    def __init__(self, chain: Sequence[x509.Certificate]) -> None:
        """Prepare the signing certificate and its key; check the chain (once per process)."""
        if not chain:
            raise VerificationError("timestamp authority has no certificate chain")
        self.chain = tuple(chain)
        self.leaf = self.chain[0]
        self.chain_der = frozenset(cert.public_bytes(Encoding.DER) for cert in self.chain)
        self.leaf_der = self.leaf.public_bytes(Encoding.DER)
        self.key = PublicKey.wrap(self.leaf.public_key())
        algorithm = self.key.algorithm.value
        self.key_kind = "ec" if "ECDSA" in algorithm else "rsa" if "RSA" in algorithm else "ed25519"
        self.chain_failure = _trusted_chain_failure(self.chain)

    def verify(self, token: TimestampToken, message: bytes) -> dt.datetime:
        """Check ``token`` as this authority's timestamp over ``message``; return its genTime."""
        if self.chain_failure is not None:
            raise self.chain_failure
        self._check_signer(token)
        _check_attributes(token)
        self._check_ess(token)
        self._check_signature(token)
        _check_imprint(token, message)
        for position, certificate in enumerate(self.chain):
            _check_valid_at(certificate, token.gen_time, position)
        return token.gen_time

    def _check_signer(self, token: TimestampToken) -> None:
        if not token.signer.names(self.leaf):
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
        kind, implied = _SIGNATURE_ALGORITHMS.get(token.signature_algorithm, ("", None))
        if kind != self.key_kind or implied not in (None, token.digest_name):
            raise VerificationError(
                "timestamp signature algorithm does not fit the TSA key and digest",
                expected=f"{self.key_kind} with {token.digest_name}",
                found=_dotted(token.signature_algorithm),
            )
        digest = hashlib.new(token.digest_name, token.signed_attributes).digest()
        try:
            self.key.verify_digest(token.signature, digest, token.digest_name)
        except (VerificationError, InvalidInput) as exc:
            raise VerificationError(
                "timestamp signature does not verify with the TSA key", found=str(exc)
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
    if kinds != (_SIGNED_DATA, _TST_INFO):
        raise VerificationError(
            "timestamp token is not a SignedData over a TSTInfo",
            expected="signed_data / tst_info",
            found=" / ".join(_dotted(kind) for kind in kinds),
        )
    signers = signed_data["signer_infos"]
    if len(signers) != 1:
        raise VerificationError(
            "timestamp token signer count", expected="exactly one SignerInfo", found=len(signers)
        )
    signer = signers[0]
    signed_attributes = _as_set(signer["signed_attrs"])  # before reading them re-encodes them
    digest_name = _algorithm(signer["digest_algorithm"], "SignerInfo digest algorithm")
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
        signature_algorithm=signer["signature_algorithm"]["algorithm"].contents,
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
                f"timestamp signed attribute {_dotted(kind)} must appear once, with one value"
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


def _dotted(contents: bytes) -> str:
    dotted: str = core.ObjectIdentifier.load(parser.emit(0, 0, 6, contents)).dotted
    return dotted


def _check_attributes(token: TimestampToken) -> None:
    if token.content_type != _TST_INFO:
        raise VerificationError(
            "timestamp content-type attribute",
            expected="1.2.840.113549.1.9.16.1.4 (TSTInfo)",
            found=_dotted(token.content_type),
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


def _subject_key_id(certificate: x509.Certificate) -> bytes | None:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except (x509.ExtensionNotFound, ValueError, x509.DuplicateExtension):
        return None
    return extension.value.digest


def _check_valid_at(certificate: x509.Certificate, moment: dt.datetime, position: int) -> None:
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        raise VerificationError(
            f"TSA certificate {position} of the chain is not valid at the timestamp's genTime",
            expected=f"{certificate.not_valid_before_utc.isoformat()} .. "
            f"{certificate.not_valid_after_utc.isoformat()}",
            found=moment.isoformat(),
        )


def _utc(moment: object) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        raise VerificationError("TSTInfo genTime is not a time", found=type(moment).__name__)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


_CHECKED_CHAINS: Lru[tuple[x509.Certificate, ...], bool] = Lru(64)
"""TSA chains whose own checks passed, shared by every verifier of the process."""


def _trusted_chain_failure(chain: tuple[x509.Certificate, ...]) -> VerificationError | None:
    if _CHECKED_CHAINS.get(chain):
        return None
    try:
        _check_leaf_usage(chain[0])
        for position, certificate in enumerate(chain[1:], start=1):
            _check_issuer_is_ca(certificate, position)
        for position, certificate in enumerate(chain):
            issuer = chain[position + 1] if position + 1 < len(chain) else certificate
            _check_signed_by(certificate, issuer, position)
    except VerificationError as exc:
        return exc
    _CHECKED_CHAINS.put(chain, True)
    return None


def _check_leaf_usage(leaf: x509.Certificate) -> None:
    try:
        extension = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        raise VerificationError(
            "TSA certificate has no extended key usage", expected="critical timeStamping"
        ) from None
    except (ValueError, x509.DuplicateExtension) as exc:
        raise VerificationError(f"TSA certificate extensions are malformed: {exc}") from None
    usages = list(extension.value)
    if not extension.critical or usages != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise VerificationError(
            "TSA certificate extended key usage",
            expected="critical, timeStamping only",
            found=f"{'critical' if extension.critical else 'not critical'}, "
            + ", ".join(usage.dotted_string for usage in usages),
        )


def _check_issuer_is_ca(certificate: x509.Certificate, position: int) -> None:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (x509.ExtensionNotFound, ValueError, x509.DuplicateExtension):
        constraints = None
    if constraints is None or not constraints.ca:
        raise VerificationError(
            f"TSA chain certificate {position} is not a CA", expected="CA:TRUE", found="CA:FALSE"
        )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    except (ValueError, x509.DuplicateExtension) as exc:
        raise VerificationError(f"TSA chain certificate {position}: {exc}") from None
    if not usage.key_cert_sign:
        raise VerificationError(
            f"TSA chain certificate {position} may not sign certificates", expected="keyCertSign"
        )


def _check_signed_by(
    certificate: x509.Certificate, issuer: x509.Certificate, position: int
) -> None:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise VerificationError(
            f"TSA chain certificate {position} is not signed by the next one",
            expected=f"issuer {issuer.subject.rfc4514_string()}",
            found=f"{certificate.issuer.rfc4514_string()} ({exc or 'bad signature'})",
        ) from None
