"""``CertificateLayout``: the signed, named and signature parts of a DER certificate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from lacre import der
from lacre.errors import InvalidInput
from lacre.x509.layout import CertificateLayout

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _certificate(key: CertificateIssuerPrivateKeyTypes, subject: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer")])
    named = [x509.NameAttribute(NameOID.COMMON_NAME, subject)] if subject else []
    digest = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA384()
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name(named))
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, digest)
    )


KEYS: dict[str, Callable[[], CertificateIssuerPrivateKeyTypes]] = {
    "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "rsa": lambda: rsa.generate_private_key(65537, 2048),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
}


@pytest.mark.parametrize("kind", sorted(KEYS))
@pytest.mark.parametrize("subject", ["leaf", ""])
def test_the_parts_are_those_cryptography_reads(kind: str, subject: str) -> None:
    cert = _certificate(KEYS[kind](), subject)
    layout = CertificateLayout.read(cert.public_bytes(Encoding.DER))
    assert layout.tbs == cert.tbs_certificate_bytes
    assert layout.signature == cert.signature
    assert layout.issuer == cert.issuer.public_bytes()
    assert layout.subject == cert.subject.public_bytes()
    assert layout.same_signature_algorithms
    assert layout.signature_algorithm == layout.tbs_signature_algorithm


CERT = _certificate(KEYS["p256"](), "leaf").public_bytes(Encoding.DER)
_TBS = der.read_all(CERT, der.SEQUENCE, "c").element(der.SEQUENCE, "tbs")[0]
_ALGORITHM = CERT[len(CERT) - len(CertificateLayout.read(CERT).signature) - 3 - 12 :][:12]


_AFTER_THE_LAST_FIELD = "unexpected data after the last field of Certificate"
_OVERRUN = der.encode(der.SEQUENCE, b"\x02\x01\x01\x30\x05")
"""A TBSCertificate whose signature algorithm claims more bytes than the TBS holds."""


def _certificate_of(*parts: bytes) -> bytes:
    return der.encode(der.SEQUENCE, b"".join(parts))


def _bits(unused: int) -> bytes:
    return der.encode(der.BIT_STRING, bytes([unused]) + b"\x30\x06\x02\x01\x01\x02\x01\x01")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "Certificate: expected tag 0x30, found the end"),
        (CERT[:-1], "Certificate: .*truncated"),
        (CERT + b"\x00", _AFTER_THE_LAST_FIELD),
        (b"\x31" + CERT[1:], "Certificate: expected tag 0x30, found 0x31"),
        (_certificate_of(_TBS, _ALGORITHM), "signatureValue: expected tag 0x03, found the end"),
        (_certificate_of(_TBS, _ALGORITHM, _bits(0), b"\x05\x00"), _AFTER_THE_LAST_FIELD),
        (_certificate_of(_TBS, _ALGORITHM, _bits(3)), "not a whole number of octets"),
        (_certificate_of(der.encode(der.SEQUENCE, b""), _ALGORITHM, _bits(0)), "serialNumber"),
        (
            _certificate_of(_OVERRUN, _ALGORITHM, _bits(0)),
            "TBSCertificate: signature: truncated DER value",
        ),
    ],
    ids=[
        "empty",
        "truncated",
        "trailing",
        "not a sequence",
        "no signature",
        "after the signature",
        "unused bits",
        "empty TBS",
        "overrun",
    ],
)
def test_malformed_certificates_are_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        CertificateLayout.read(data)


def test_differing_inner_and_outer_algorithms_are_told() -> None:
    other = bytes.fromhex("300a06082a8648ce3d040302")  # ecdsa-with-SHA256; CERT signs with SHA384
    assert other != _ALGORITHM
    layout = CertificateLayout.read(_certificate_of(_TBS, other, _bits(0)))
    assert not layout.same_signature_algorithms
