"""The parts of a DER certificate that a path check compares and verifies, as bytes.

``cryptography`` re-encodes a certificate to give its signed part
(``tbs_certificate_bytes``) or its DER (``public_bytes``), and builds
``Name`` objects for its names. A verifier that holds the DER it loaded the
certificate from can slice these parts out of it instead, once, with a strict
DER walk (:mod:`lacre.der`), and compare names as their encodings.
"""

from __future__ import annotations

from lacre import der
from lacre.errors import InvalidInput
from lacre.record import record

_VERSION = der.context(0)


@record
class CertificateLayout:
    """The byte ranges of one DER ``Certificate`` (RFC 5280 4.1), each a whole DER element.

    ``signature`` is the signature itself (the BIT STRING's contents after its
    unused-bits octet, which must be zero).
    """

    tbs: bytes
    tbs_signature_algorithm: bytes
    issuer: bytes
    subject: bytes
    signature_algorithm: bytes
    signature: bytes

    @classmethod
    def read(cls, data: bytes) -> CertificateLayout:
        """Slice the parts out of the DER certificate ``data``.

        :class:`InvalidInput` if it is not one well-formed DER ``Certificate``.
        """
        body, end = _element(data, 0, len(data), der.SEQUENCE, "Certificate")
        if end != len(data):
            raise _malformed("trailing bytes after the Certificate")
        tbs_body, tbs_end = _element(data, body, end, der.SEQUENCE, "tbsCertificate")
        algorithm_end = _element(data, tbs_end, end, der.SEQUENCE, "signatureAlgorithm")[1]
        bits, bits_end = _element(data, algorithm_end, end, der.BIT_STRING, "signatureValue")
        if bits_end != end:
            raise _malformed("data after the signatureValue")
        if bits == bits_end or data[bits] != 0:
            raise InvalidInput(
                "Certificate signatureValue is not a whole number of octets",
                expected="unused bits 0",
                found="empty" if bits == bits_end else f"unused bits {data[bits]}",
            )
        fields = _tbs_fields(data, tbs_body, tbs_end)
        return cls(data[body:tbs_end], *fields, data[tbs_end:algorithm_end], data[bits + 1 : end])

    @property
    def same_signature_algorithms(self) -> bool:
        """RFC 5280 4.1.1.2: the signed part names the algorithm the signature uses."""
        return self.tbs_signature_algorithm == self.signature_algorithm


_TBS_FIELDS = (  # up to the subject, after the optional version
    (der.INTEGER, "serialNumber", False),
    (der.SEQUENCE, "signature", True),
    (der.SEQUENCE, "issuer", True),
    (der.SEQUENCE, "validity", False),
    (der.SEQUENCE, "subject", True),
)


def _tbs_fields(data: bytes, start: int, end: int) -> tuple[bytes, bytes, bytes]:
    """The signature algorithm, issuer and subject elements of a TBSCertificate."""
    position = start
    if position < end and data[position] == _VERSION:
        position = _element(data, position, end, _VERSION, "version")[1]
    kept = []
    for tag, name, keep in _TBS_FIELDS:
        following = _element(data, position, end, tag, name)[1]
        if keep:
            kept.append(data[position:following])
        position = following
    signature, issuer, subject = kept
    return signature, issuer, subject


def _element(data: bytes, offset: int, limit: int, tag: int, name: str) -> tuple[int, int]:
    """The contents (start, end) of the element ``name`` at ``offset``, inside ``limit``."""
    if offset >= limit or data[offset] != tag:
        found = "the end" if offset >= limit else f"0x{data[offset]:02x}"
        raise _malformed(f"{name}: expected tag 0x{tag:02x}, found {found}")
    try:
        _, start, end = der.read_tlv(data, offset, "Certificate")
    except InvalidInput as exc:
        raise _malformed(f"{name}: {exc}") from None
    if end > limit:
        raise _malformed(f"{name} overruns the element that holds it")
    return start, end


def _malformed(reason: str) -> InvalidInput:
    return InvalidInput(f"Certificate is not valid DER: {reason}")
