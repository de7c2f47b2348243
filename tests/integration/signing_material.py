"""Signing material made in the tests, until lacre's own CA and TSA exist.

* :class:`KeySigner`: an ECDSA P-256 key that signs artifacts (bare-key entries).
* :class:`IssuingCA`: a root CA with a Certificate Transparency log key. It issues
  Fulcio-shaped leaf certificates (email SAN, code signing, OIDC issuer
  extension) carrying an embedded SCT from that log, so that sigstore-python's
  complete ``Verifier`` accepts them.
* :func:`trusted_root_naming` adds the CA and the CT log to a server's
  ``trusted_root.json``, which names the server's log keys.

Signatures are deterministic (RFC 6979): signing the same artifact twice with the
same key gives the same bytes, hence the same log entry.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

OIDC_ISSUER = "https://oidc.lacre.test"
SCT_LIST_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
OIDC_ISSUER_V1_OID = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OIDC_ISSUER_V2_OID = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_SHA256 = 4  # TLS HashAlgorithm sha256
_ECDSA = 3  # TLS SignatureAlgorithm ecdsa
_PRECERT_ENTRY = 1


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _spki_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _u16(data: bytes) -> bytes:
    return struct.pack("!H", len(data)) + data


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class KeySigner:
    """An ECDSA P-256 signing key."""

    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> KeySigner:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    @property
    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, data: bytes) -> bytes:
        """ECDSA-SHA256 over ``data`` (DER signature, deterministic)."""
        return self.sign_digest(hashlib.sha256(data).digest())

    def sign_digest(self, digest: bytes) -> bytes:
        """ECDSA over a SHA-256 digest (DER signature, deterministic)."""
        algorithm = ec.ECDSA(Prehashed(hashes.SHA256()), deterministic_signing=True)
        return self.private_key.sign(digest, algorithm)


@dataclass(frozen=True)
class CertSigner(KeySigner):
    """A signing key with its leaf certificate, issued for ``email``."""

    certificate: x509.Certificate
    email: str

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


class IssuingCA:
    """A root CA and a CT log key that together issue Fulcio-shaped leaf certificates."""

    def __init__(self, name: str = "lacre test CA") -> None:
        self.name = name
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.ct_key = ec.generate_private_key(ec.SECP256R1())
        self.not_before = _now() - datetime.timedelta(hours=1)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lacre tests"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        public = self.key.public_key()
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.not_before)
            .not_valid_after(self.not_before + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def ct_log_id(self) -> bytes:
        return hashlib.sha256(_spki_der(self.ct_key.public_key())).digest()

    def issue(self, email: str, *, issuer: str = OIDC_ISSUER) -> CertSigner:
        """A fresh key and a leaf certificate for ``email`` with an embedded SCT."""
        key = ec.generate_private_key(ec.SECP256R1())
        not_before = _now() - datetime.timedelta(minutes=5)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_before + datetime.timedelta(hours=1))
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), True)
            .add_extension(x509.UnrecognizedExtension(OIDC_ISSUER_V1_OID, issuer.encode()), False)
            .add_extension(
                x509.UnrecognizedExtension(OIDC_ISSUER_V2_OID, _der(0x0C, issuer.encode())),
                critical=False,
            )
        )
        # The SCT signs the certificate without its SCT list (RFC 6962 §3.2): sign a
        # placeholder once to learn those bytes, then issue the certificate with the SCT.
        placeholder = builder.add_extension(
            x509.UnrecognizedExtension(SCT_LIST_OID, _der(0x04, _u16(_u16(b"\x00")))), False
        ).sign(self.key, hashes.SHA256())
        sct = self._sct(placeholder.tbs_precertificate_bytes)
        certificate = builder.add_extension(
            x509.UnrecognizedExtension(SCT_LIST_OID, _der(0x04, _u16(_u16(sct)))), False
        ).sign(self.key, hashes.SHA256())
        assert certificate.tbs_precertificate_bytes == placeholder.tbs_precertificate_bytes
        return CertSigner(private_key=key, certificate=certificate, email=email)

    def _sct(self, tbs_precertificate: bytes) -> bytes:
        timestamp = int(_now().timestamp() * 1000)
        issuer_key_hash = hashlib.sha256(_spki_der(self.key.public_key())).digest()
        signed = (
            struct.pack("!BBQH", 0, 0, timestamp, _PRECERT_ENTRY)
            + issuer_key_hash
            + len(tbs_precertificate).to_bytes(3, "big")
            + tbs_precertificate
            + _u16(b"")
        )
        signature = self.ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return (
            struct.pack("!B", 0)
            + self.ct_log_id
            + struct.pack("!Q", timestamp)
            + _u16(b"")
            + struct.pack("!BB", _SHA256, _ECDSA)
            + _u16(signature)
        )

    def trust_entries(self) -> dict[str, list[dict[str, Any]]]:
        """This CA and its CT log as trusted-root ``certificateAuthorities``/``ctlogs``."""
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        start = {"start": _iso(self.not_before)}
        return {
            "certificateAuthorities": [
                {
                    "subject": {"organization": "lacre tests", "commonName": self.name},
                    "uri": "https://ca.lacre.test",
                    "certChain": {"certificates": [{"rawBytes": base64.b64encode(der).decode()}]},
                    "validFor": start,
                }
            ],
            "ctlogs": [
                {
                    "baseUrl": "https://ct.lacre.test",
                    "hashAlgorithm": "SHA2_256",
                    "publicKey": {
                        "rawBytes": base64.b64encode(_spki_der(self.ct_key.public_key())).decode(),
                        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                        "validFor": start,
                    },
                    "logId": {"keyId": base64.b64encode(self.ct_log_id).decode()},
                }
            ],
        }


def trusted_root_naming(server_trusted_root: Path, ca: IssuingCA) -> str:
    """The server's trusted root (its log keys) with ``ca`` and its CT log added, as JSON."""
    root: dict[str, Any] = json.loads(server_trusted_root.read_text())
    root.update(ca.trust_entries())
    return json.dumps(root)
