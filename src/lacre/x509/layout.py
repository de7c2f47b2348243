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
        certificate = der.read_all(data, der.SEQUENCE, "Certificate")
        tbs, tbs_contents = certificate.element(der.SEQUENCE, "tbsCertificate")
        signature_algorithm = certificate.element(der.SEQUENCE, "signatureAlgorithm")[0]
        bits = certificate.read(der.BIT_STRING, "signatureValue")
        certificate.end()
        if not bits or bits[0] != 0:
            raise InvalidInput(
                "Certificate signatureValue is not a whole number of octets",
                expected="unused bits 0",
                found="empty" if not bits else f"unused bits {bits[0]}",
            )
        fields = der.Reader(tbs_contents, "TBSCertificate")
        fields.optional(_VERSION, "version")
        fields.read(der.INTEGER, "serialNumber")
        tbs_signature_algorithm = fields.element(der.SEQUENCE, "signature")[0]
        issuer = fields.element(der.SEQUENCE, "issuer")[0]
        fields.read(der.SEQUENCE, "validity")
        subject = fields.element(der.SEQUENCE, "subject")[0]
        return cls(tbs, tbs_signature_algorithm, issuer, subject, signature_algorithm, bits[1:])

    @property
    def same_signature_algorithms(self) -> bool:
        """RFC 5280 4.1.1.2: the signed part names the algorithm the signature uses."""
        return self.tbs_signature_algorithm == self.signature_algorithm
