"""What every certificate lacre issues starts from: serial, validity, key usage.

The CA (:mod:`lacre.x509.profile`) and the timestamp authority
(:mod:`lacre.tsa.chain`) build their certificates on these.
"""

from __future__ import annotations

import datetime as dt
import secrets

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

MAX_SERIAL = 2**159
_USAGE_FLAGS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
)


def random_serial() -> int:
    """A random serial number: positive, at most 159 bits, so at most 20 DER bytes."""
    return 1 + secrets.randbelow(MAX_SERIAL - 1)


def certificate_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: CertificatePublicKeyTypes,
    not_before: dt.datetime,
    validity: dt.timedelta,
) -> x509.CertificateBuilder:
    """A builder with names, key, a random serial and ``validity`` from ``not_before``."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_before + validity)
    )


def key_usage(**flags: bool) -> x509.KeyUsage:
    """A KeyUsage with the ``flags`` given true (``digital_signature=True``...), others false.

    Raises TypeError for a flag KeyUsage does not have.
    """
    unknown = set(flags) - set(_USAGE_FLAGS)
    if unknown:
        raise TypeError(f"unknown key usage flags: {sorted(unknown)}")
    values = {flag: flags.get(flag, False) for flag in _USAGE_FLAGS}
    return x509.KeyUsage(**values, encipher_only=False, decipher_only=False)
