"""Certificates: PEM/DER loading, canonical PEM, SAN identities, the CA flag."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lacre.errors import InvalidInput
from lacre.x509 import canonical_pem, is_ca, load_certificate, subject_identities
from lacre.x509.certificates import FULCIO_USERNAME_OID, asn1_error, extension_map
from tests.unit.x509.damaged import with_invalid_version

KEY = ec.generate_private_key(ec.SECP256R1())


def make(
    sans: list[x509.GeneralName] | None = None,
    *,
    ca: bool | None = None,
    critical: Sequence[x509.ExtensionType] = (),
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(hours=1))
    )
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if ca is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=None), critical=True
        )
    for extension in critical:
        builder = builder.add_extension(extension, critical=True)
    return builder.sign(KEY, hashes.SHA256())


def test_load_pem_and_der() -> None:
    cert = make()
    pem = cert.public_bytes(serialization.Encoding.PEM)
    assert load_certificate(pem) == cert
    assert load_certificate(b"leading text\n" + pem.replace(b"\n", b"\r\n")) == cert
    assert load_certificate(cert.public_bytes(serialization.Encoding.DER)) == cert


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "certificate is neither PEM nor DER"),
        (b"\x30\x03\x02\x01\x01", "certificate is neither PEM nor DER"),
        (
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "not a valid PEM CERTIFICATE",
        ),
        (
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "not a valid PEM CERTIFICATE",
        ),
    ],
)
def test_garbage_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_certificate(data)


def test_canonical_pem_has_64_character_lines_and_a_trailing_newline() -> None:
    cert = make([x509.DNSName("a" * 60 + ".example")])
    crlf = cert.public_bytes(serialization.Encoding.PEM).replace(b"\n", b"\r\n")
    pem = canonical_pem(load_certificate(crlf))
    lines = pem.split(b"\n")
    assert lines[0] == b"-----BEGIN CERTIFICATE-----"
    assert lines[-2] == b"-----END CERTIFICATE-----" and lines[-1] == b""
    assert all(len(line) == 64 for line in lines[1:-3])
    assert 0 < len(lines[-3]) <= 64
    assert b"\r" not in pem
    key_pem = canonical_pem(KEY.public_key())
    assert key_pem.startswith(b"-----BEGIN PUBLIC KEY-----\n") and key_pem.endswith(
        b"-----END PUBLIC KEY-----\n"
    )


def test_subject_identities_are_lower_cased_in_san_order() -> None:
    username = x509.OtherName(FULCIO_USERNAME_OID, b"\x0c\x05Alice")
    cert = make(
        [
            x509.RFC822Name("Alice@Example.COM"),
            x509.UniformResourceIdentifier("https://GitHub.com/Org/Repo"),
            x509.DNSName("Host.Example"),
            x509.IPAddress(ipaddress.ip_address("192.0.2.1")),
            username,
            x509.OtherName(x509.ObjectIdentifier("1.2.3.4"), b"\x0c\x01x"),
            x509.RFC822Name("alice@example.com"),
        ]
    )
    assert subject_identities(cert) == [
        "alice@example.com",
        "https://github.com/org/repo",
        "host.example",
        "192.0.2.1",
        "alice",
    ]


def test_no_san_means_no_identities_and_odd_usernames_are_skipped() -> None:
    assert subject_identities(make()) == []
    long_name = "u" * 200
    long_form = b"\x0c\x81\xc8" + long_name.encode()
    not_utf8 = x509.OtherName(FULCIO_USERNAME_OID, b"\x0c\x02\xff\xfe")
    wrong_tag = x509.OtherName(FULCIO_USERNAME_OID, b"\x16\x01x")
    cert = make([x509.OtherName(FULCIO_USERNAME_OID, long_form), not_utf8, wrong_tag])
    assert subject_identities(cert) == [long_name]


def test_is_ca() -> None:
    assert is_ca(make(ca=True))
    assert not is_ca(make(ca=False))
    assert not is_ca(make())


def test_extension_map_is_built_once_per_certificate_object() -> None:
    cert = make([x509.RFC822Name("a@example.com")], ca=False)
    first = extension_map(cert)
    assert extension_map(cert) is first
    assert {oid: ext.value for oid, ext in first.items()} == {
        ext.oid: ext.value for ext in cert.extensions
    }
    again = x509.load_der_x509_certificate(cert.public_bytes(serialization.Encoding.DER))
    assert extension_map(again) is not first
    assert extension_map(again) == first


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            'error parsing asn1 value: ParseError { kind: InvalidLength, location: ["Certificate::'
            'tbs_cert"] }',
            "an invalid length in Certificate::tbs_cert",
        ),
        ("error parsing asn1 value: ParseError { kind: ExtraData }", "data after the end"),
        (
            "error parsing asn1 value: ParseError { kind: ShortData { needed: 610 } }",
            "truncated data",
        ),
        (
            "error parsing asn1 value: ParseError { kind: UnexpectedTag { actual: Tag { value: 2, "
            'constructed: false, class: Universal } }, location: ["Certificate::tbs_cert"] }',
            "an unexpected tag in Certificate::tbs_cert",
        ),
        (
            "error parsing asn1 value: ParseError { kind: NewKind }",
            "error parsing asn1 value: ParseError { kind: NewKind }",
        ),
        ("something else", "something else"),
    ],
    ids=["length", "extra", "short", "tag", "unknown kind", "not a parse error"],
)
def test_der_parse_errors_are_put_in_words(text: str, words: str) -> None:
    assert asn1_error(ValueError(text)) == words


@pytest.mark.parametrize("cut", [1, 100, -1])
def test_a_damaged_certificate_is_described_in_words(cut: int) -> None:
    der = make().public_bytes(serialization.Encoding.DER)
    damaged = der + b"\x00" if cut == -1 else der[:cut]
    with pytest.raises(InvalidInput, match=r"found (truncated data|data after the end)"):
        load_certificate(damaged)


def test_a_certificate_of_an_unknown_version_is_refused_as_unreadable() -> None:
    der = with_invalid_version(make().public_bytes(serialization.Encoding.DER))
    with pytest.raises(InvalidInput, match="106 is not a valid X509 version"):
        load_certificate(der)
