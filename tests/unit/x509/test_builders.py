"""The certificate builder basics shared by the CA and the timestamp authority."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lacre.x509.builders import certificate_builder, key_usage, random_serial

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_key_usage_sets_only_the_flags_given() -> None:
    usage = key_usage(key_cert_sign=True, crl_sign=True)
    assert usage.key_cert_sign and usage.crl_sign
    assert not usage.digital_signature and not usage.content_commitment
    assert not usage.key_encipherment and not usage.data_encipherment
    assert not usage.key_agreement
    assert key_usage() == key_usage(digital_signature=False)


def test_key_usage_refuses_an_unknown_flag() -> None:
    with pytest.raises(TypeError, match="encipher_everything"):
        key_usage(encipher_everything=True)


def test_serials_are_positive_distinct_and_fit_20_bytes() -> None:
    serials = {random_serial() for _ in range(200)}
    assert len(serials) == 200
    assert all(0 < serial < 2**159 for serial in serials)


def test_builder_sets_names_key_serial_and_validity() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "root")])
    builder = certificate_builder(subject, issuer, key.public_key(), NOW, dt.timedelta(hours=2))
    certificate = builder.sign(key, hashes.SHA256())
    assert certificate.subject == subject and certificate.issuer == issuer
    assert certificate.not_valid_before_utc == NOW
    assert certificate.not_valid_after_utc == NOW + dt.timedelta(hours=2)
    assert certificate.serial_number > 0
    other = certificate_builder(subject, issuer, key.public_key(), NOW, dt.timedelta(hours=2))
    assert other.sign(key, hashes.SHA256()).serial_number != certificate.serial_number
