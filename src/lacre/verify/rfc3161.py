"""RFC 3161 timestamp responses read for verification.

:func:`parse_response` reads what a verifier needs from a DER ``TimeStampResp``
and refuses anything else: its status must be granted, its token a CMS
``SignedData`` (RFC 5652) over a ``TSTInfo`` in the versions RFC 5652 allows,
with exactly one ``SignerInfo`` carrying signed attributes (the ones a verifier
reads once, with one value), hash algorithms SHA-1 (ESS only) or SHA-2 with
absent or NULL parameters, and X.509 certificates only. Every structure is
read strictly by :mod:`lacre.der`, the fields it does not use included.
What it reads is checked against a trusted authority by :mod:`lacre.verify.tsa`.
"""

from __future__ import annotations

import datetime as dt
import hmac

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from lacre import der
from lacre.der import OCTET_STRING, OID, SEQUENCE, SET, Reader, context, dotted
from lacre.errors import InvalidInput, VerificationError
from lacre.record import record
from lacre.x509.certificates import extension_map

_HASHES = frozenset({"sha256", "sha384", "sha512"})
_ESS_HASHES = frozenset({"sha1", *_HASHES})
_HASH_NAMES = {
    der.oid("1.3.14.3.2.26"): "sha1",
    der.oid("2.16.840.1.101.3.4.2.1"): "sha256",
    der.oid("2.16.840.1.101.3.4.2.2"): "sha384",
    der.oid("2.16.840.1.101.3.4.2.3"): "sha512",
}
_SIGNATURE_ALGORITHMS = {
    # For each signatureAlgorithm: the key type it needs and the digest it implies, if any.
    der.oid("1.2.840.10045.2.1"): ("ec", None),
    der.oid("1.2.840.10045.4.3.2"): ("ec", "sha256"),
    der.oid("1.2.840.10045.4.3.3"): ("ec", "sha384"),
    der.oid("1.2.840.10045.4.3.4"): ("ec", "sha512"),
    der.oid("1.2.840.113549.1.1.1"): ("rsa", None),
    der.oid("1.2.840.113549.1.1.11"): ("rsa", "sha256"),
    der.oid("1.2.840.113549.1.1.12"): ("rsa", "sha384"),
    der.oid("1.2.840.113549.1.1.13"): ("rsa", "sha512"),
}
_SIGNED_DATA = der.oid("1.2.840.113549.1.7.2")
TST_INFO = der.oid("1.2.840.113549.1.9.16.1.4")
_CONTENT_TYPE = der.oid("1.2.840.113549.1.9.3")
_MESSAGE_DIGEST = der.oid("1.2.840.113549.1.9.4")
_SIGNING_CERTIFICATE = der.oid("1.2.840.113549.1.9.16.2.12")
_SIGNING_CERTIFICATE_V2 = der.oid("1.2.840.113549.1.9.16.2.47")
_READ_ATTRIBUTES = frozenset(
    {_CONTENT_TYPE, _MESSAGE_DIGEST, _SIGNING_CERTIFICATE, _SIGNING_CERTIFICATE_V2}
)
_NULL = b"\x05\x00"


@record
class SignerId:
    """How a SignerInfo names its certificate: ``IssuerAndSerialNumber`` DER, or a key ID."""

    issuer_and_serial: bytes = b""
    key_id: bytes | None = None

    def names(self, issuer_and_serial: bytes, key_id: bytes | None) -> bool:
        """Whether this names the certificate with these :func:`issuer_and_serial` and key ID."""
        if self.key_id is not None:
            return key_id is not None and hmac.compare_digest(key_id, self.key_id)
        return self.issuer_and_serial == issuer_and_serial


@record
class TimestampToken:
    """What a verifier checks of one ``TimeStampResp``.

    ``signature_algorithm`` is the DER contents of the signature algorithm's
    OID (see :func:`signature_scheme`).
    """

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


@record
class _SignerInfo:
    signer: SignerId
    digest_name: str
    signed_attributes: bytes
    attributes: dict[bytes, tuple[int, bytes]]
    signature_algorithm: bytes
    signature: bytes


def signature_scheme(algorithm: bytes) -> tuple[str, str | None] | None:
    """The key type (``ec``, ``rsa``) and implied digest of a signature algorithm OID.

    ``algorithm`` is the OID's DER contents; the digest is None when the algorithm
    names none. None for an algorithm lacre does not know.
    """
    return _SIGNATURE_ALGORITHMS.get(algorithm)


def parse_response(data: bytes) -> TimestampToken:
    """Read a DER ``TimeStampResp``; raise :class:`VerificationError` if it is not one."""
    try:
        return _token(data)
    except VerificationError:
        raise
    except InvalidInput as exc:
        raise VerificationError(
            "not a DER TimeStampResp", expected="a granted TimeStampResp", found=str(exc)
        ) from None


def _token(data: bytes) -> TimestampToken:
    response = der.read_all(data, SEQUENCE, "TimeStampResp")
    _check_granted(response.nested(SEQUENCE, "PKIStatusInfo"))
    token = response.nested(SEQUENCE, "timeStampToken")
    response.end()
    content_type = token.read(OID, "ContentInfo contentType")
    explicit = token.nested(context(0), "ContentInfo content")
    token.end()
    if content_type != _SIGNED_DATA:
        raise _not_signed_data(content_type)
    signed_data = explicit.nested(SEQUENCE, "SignedData")
    explicit.end()
    return _signed_data(signed_data)


def _check_granted(status_info: Reader) -> None:
    status = status_info.integer("PKIStatus")
    status_info.optional(SEQUENCE, "statusString")
    status_info.optional(der.BIT_STRING, "failInfo")
    status_info.end()
    if status != 0:
        raise VerificationError("timestamp was not granted", expected="granted (0)", found=status)


def _signed_data(reader: Reader) -> TimestampToken:
    version = reader.integer("SignedData version")
    if version not in (1, 3, 4, 5):
        raise VerificationError("SignedData version", expected="1, 3, 4 or 5", found=version)
    digests = [
        _algorithm(item, "SignedData digest algorithm", _ESS_HASHES)
        for _, item in der.elements(reader.read(SET, "digestAlgorithms"), SEQUENCE, "digest")
    ]
    content = _encapsulated(reader.nested(SEQUENCE, "encapContentInfo"))
    certificates = reader.optional(context(0), "certificates")
    _check_crls(reader.optional(context(1), "crls"))
    signers = der.elements(reader.read(SET, "signerInfos"), SEQUENCE, "signerInfos")
    reader.end()
    if len(signers) != 1:
        raise VerificationError(
            "timestamp token signer count", expected="exactly one SignerInfo", found=len(signers)
        )
    signer = _signer_info(Reader(signers[0][1], "SignerInfo"))
    if signer.digest_name not in digests:
        raise VerificationError(
            "SignedData digest algorithms do not list the signer's", expected=signer.digest_name
        )
    return _assemble(signer, content, certificates)


def _check_crls(crls: bytes | None) -> None:
    """Each of the ``crls`` must be a CertificateList: lacre does not use them, but reads them."""
    for encoding, _ in der.elements(crls or b"", SEQUENCE, "crls"):
        try:
            x509.load_der_x509_crl(encoding)
        except (ValueError, x509.InvalidVersion) as exc:
            raise VerificationError(f"timestamp token CRL is malformed: {exc}") from None


def _encapsulated(reader: Reader) -> bytes:
    content_type = reader.read(OID, "eContentType")
    if content_type != TST_INFO:
        raise _not_signed_data(content_type)
    if reader.at_end():
        raise VerificationError("timestamp token has no TSTInfo", expected="eContent", found="none")
    explicit = reader.nested(context(0), "eContent")
    reader.end()
    content = explicit.read(OCTET_STRING, "eContent")
    explicit.end()
    return content


def _signer_info(reader: Reader) -> _SignerInfo:
    version = reader.integer("SignerInfo version")
    if reader.peek() == SEQUENCE:
        encoding, _ = reader.element(SEQUENCE, "issuerAndSerialNumber")
        signer, expected = SignerId(issuer_and_serial=encoding), 1
    else:
        signer, expected = SignerId(key_id=reader.read(context(0, constructed=False), "sid")), 3
    if version != expected:
        raise VerificationError(
            "SignerInfo version does not fit its signer identifier",
            expected=expected,
            found=version,
        )
    digest_name = _algorithm(reader.read(SEQUENCE, "digestAlgorithm"), "SignerInfo digest")
    if reader.peek() != context(0):
        raise VerificationError("timestamp has no signed attributes", expected="signedAttrs")
    encoding, attributes = reader.element(context(0), "signedAttrs")
    algorithm = Reader(reader.read(SEQUENCE, "signatureAlgorithm"), "signatureAlgorithm")
    signature_algorithm = algorithm.read(OID, "algorithm")
    _check_no_parameters(algorithm, "signatureAlgorithm")
    signature = reader.read(OCTET_STRING, "signature")
    reader.optional(context(1), "unsignedAttrs")
    reader.end()
    return _SignerInfo(
        signer=signer,
        digest_name=digest_name,
        signed_attributes=bytes([SET]) + encoding[1:],  # signed as a SET OF, not as [0]
        attributes=_attributes(attributes),
        signature_algorithm=signature_algorithm,
        signature=signature,
    )


def _attributes(contents: bytes) -> dict[bytes, tuple[int, bytes]]:
    """The single value (tag, contents) of each attribute a verifier reads, by type."""
    found: dict[bytes, tuple[int, bytes]] = {}
    items = der.elements(contents, SEQUENCE, "signedAttrs")
    if not items:
        raise VerificationError("timestamp has no signed attributes", expected="signedAttrs")
    for _, attribute in items:
        reader = Reader(attribute, "Attribute")
        kind = reader.read(OID, "attrType")
        values = Reader(reader.read(SET, "attrValues"), "attrValues")
        reader.end()
        read = [values.any("attrValue")]
        while not values.at_end():
            read.append(values.any("attrValue"))
        if kind in _READ_ATTRIBUTES and (kind in found or len(read) != 1):
            raise VerificationError(
                f"timestamp signed attribute {dotted(kind)} must appear once, with one value"
            )
        found[kind] = (read[0][0], read[0][2])
    return found


def _assemble(signer: _SignerInfo, content: bytes, certificates: bytes | None) -> TimestampToken:
    attributes = signer.attributes
    info = der.read_all(content, SEQUENCE, "TSTInfo")
    imprint_hash, imprint, gen_time = _tst_info(info)
    ess_hash, ess_cert_hash = _ess(attributes)
    return TimestampToken(
        signer=signer.signer,
        embedded=_embedded(certificates),
        content=content,
        content_type=_value(attributes, _CONTENT_TYPE, OID, "contentType"),
        message_digest=_value(attributes, _MESSAGE_DIGEST, OCTET_STRING, "messageDigest"),
        ess_hash=ess_hash,
        ess_cert_hash=ess_cert_hash,
        digest_name=signer.digest_name,
        signature_algorithm=signer.signature_algorithm,
        signed_attributes=signer.signed_attributes,
        signature=signer.signature,
        imprint_hash=imprint_hash,
        imprint=imprint,
        gen_time=gen_time,
    )


def _tst_info(reader: Reader) -> tuple[str, bytes, dt.datetime]:
    """The imprint's hash and digest and the genTime of a TSTInfo (RFC 3161 section 2.4.2)."""
    version = reader.integer("TSTInfo version")
    if version != 1:
        raise VerificationError("TSTInfo version", expected=1, found=version)
    reader.read(OID, "policy")
    imprint = reader.nested(SEQUENCE, "messageImprint")
    hash_name = _algorithm(imprint.read(SEQUENCE, "hashAlgorithm"), "message imprint algorithm")
    hashed = imprint.read(OCTET_STRING, "hashedMessage")
    imprint.end()
    reader.integer("serialNumber")
    gen_time = der.generalized_time(reader.read(der.GENERALIZED_TIME, "genTime"), "genTime")
    reader.optional(SEQUENCE, "accuracy")
    reader.optional(der.BOOLEAN, "ordering")
    if reader.peek() == der.INTEGER:
        reader.integer("nonce")
    reader.optional(context(0), "tsa")
    reader.optional(context(1, constructed=True), "extensions")
    reader.end()
    return hash_name, hashed, gen_time


def _ess(attributes: dict[bytes, tuple[int, bytes]]) -> tuple[str | None, bytes]:
    """The hash algorithm and certificate hash of the first ESS certificate ID, if any."""
    if _SIGNING_CERTIFICATE_V2 in attributes:
        first = _first_cert_id(attributes, _SIGNING_CERTIFICATE_V2, "SigningCertificateV2")
        name = "sha256"  # the DEFAULT of ESSCertIDv2.hashAlgorithm
        if first.peek() == SEQUENCE:
            name = _algorithm(
                first.read(SEQUENCE, "hashAlgorithm"), "ESSCertIDv2 hash", _ESS_HASHES
            )
    elif _SIGNING_CERTIFICATE in attributes:
        first = _first_cert_id(attributes, _SIGNING_CERTIFICATE, "SigningCertificate")
        name = "sha1"
    else:
        return None, b""
    cert_hash = first.read(OCTET_STRING, "certHash")
    first.optional(SEQUENCE, "issuerSerial")
    first.end()
    return name, cert_hash


def _first_cert_id(attributes: dict[bytes, tuple[int, bytes]], kind: bytes, name: str) -> Reader:
    tag, contents = attributes[kind]
    if tag != SEQUENCE:
        raise VerificationError(f"timestamp {name} attribute", expected="a SEQUENCE", found=tag)
    value = Reader(contents, name)
    certs = der.elements(value.read(SEQUENCE, "certs"), SEQUENCE, "certs")
    value.optional(SEQUENCE, "policies")
    value.end()
    if not certs:
        raise VerificationError(f"timestamp {name} attribute lists no certificate")
    return Reader(certs[0][1], f"{name} certificate ID")


def _value(attributes: dict[bytes, tuple[int, bytes]], kind: bytes, tag: int, name: str) -> bytes:
    if kind not in attributes:
        raise VerificationError(f"timestamp has no {name} signed attribute", expected=name)
    found, contents = attributes[kind]
    if found != tag:
        raise VerificationError(f"timestamp {name} attribute", expected=f"tag {tag}", found=found)
    return contents


def _embedded(certificates: bytes | None) -> tuple[bytes, ...]:
    """The encoding of each certificate the token carries (other kinds are refused)."""
    if certificates is None:
        return ()
    return tuple(encoding for encoding, _ in der.elements(certificates, SEQUENCE, "certificates"))


def _algorithm(contents: bytes, what: str, allowed: frozenset[str] = _HASHES) -> str:
    """The name of a hash AlgorithmIdentifier (parameters absent or NULL) among ``allowed``."""
    reader = Reader(contents, what)
    algorithm = reader.read(OID, "algorithm")
    name = _HASH_NAMES.get(algorithm)
    if name not in allowed:
        raise VerificationError(
            what, expected=" or ".join(sorted(allowed)), found=dotted(algorithm)
        )
    _check_no_parameters(reader, what)
    return str(name)


def _check_no_parameters(reader: Reader, what: str) -> None:
    if not reader.at_end():
        _, encoding, _ = reader.any("parameters")
        if encoding != _NULL:
            raise VerificationError(
                f"{what} parameters", expected="absent or NULL", found="a value"
            )
    reader.end()


def _not_signed_data(content_type: bytes) -> VerificationError:
    return VerificationError(
        "timestamp token is not a SignedData over a TSTInfo",
        expected="signedData / TSTInfo",
        found=dotted(content_type),
    )


def issuer_and_serial(certificate: x509.Certificate) -> bytes:
    """The DER ``IssuerAndSerialNumber`` of ``certificate``."""
    serial = certificate.serial_number
    magnitude = serial if serial >= 0 else ~serial
    size = magnitude.bit_length() // 8 + 1  # room for the sign bit: minimal two's complement
    integer = der.encode(der.INTEGER, serial.to_bytes(size, "big", signed=True))
    return der.encode(SEQUENCE, certificate.issuer.public_bytes() + integer)


def subject_key_id(certificate: x509.Certificate) -> bytes | None:
    """The subject key identifier of ``certificate``, if it has a readable one."""
    try:
        extension = extension_map(certificate).get(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    except InvalidInput:
        return None
    value = None if extension is None else extension.value
    return value.digest if isinstance(value, x509.SubjectKeyIdentifier) else None
