"""Keys and self-signed certificates for the entry-kind tests (made once per session)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
Issue = Callable[[PrivateKey, list[x509.GeneralName]], x509.Certificate]


def _self_signed(key: PrivateKey, sans: list[x509.GeneralName]) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lacre test")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(minutes=10))
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm)


@pytest.fixture(scope="session")
def issue() -> Issue:
    """Make a self-signed certificate for a key with the given SANs."""
    return _self_signed


@pytest.fixture(scope="session")
def p256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def other_p256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def p384() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="session")
def rsa2048() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def leaf(p256: ec.EllipticCurvePrivateKey, issue: Issue) -> x509.Certificate:
    """A Fulcio-like leaf: P-256 key, an e-mail and a URI identity (mixed case)."""
    return issue(
        p256,
        [
            x509.RFC822Name("Alice@Example.COM"),
            x509.UniformResourceIdentifier(
                "https://github.com/Org/Repo/.github/workflows/r.yml@refs/heads/main"
            ),
        ],
    )
