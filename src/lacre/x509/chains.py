"""Reading a CA chain from PEM: an issuing intermediate and the self-signed root above it."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID

from lacre.errors import InvalidInput
from lacre.x509.certificates import UNREADABLE_CERTIFICATE, extension_map
from lacre.x509.profile import CaChain

MAX_CHAIN_PEM_BYTES = 64 * 1024
"""Largest chain file accepted."""


def parse_ca_chain(pem: bytes, *, now: dt.datetime, where: str = "CA chain") -> CaChain:
    """Check and return the chain in ``pem``: the intermediate, then the root that issued it.

    Both must be CA certificates valid at ``now``; the root must be self-signed and
    must have signed the intermediate. Anything else is InvalidInput saying which.
    """
    if len(pem) > MAX_CHAIN_PEM_BYTES:
        raise InvalidInput(
            f"{where} is too large",
            expected=f"at most {MAX_CHAIN_PEM_BYTES} bytes",
            found=f"{len(pem)} bytes",
        )
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except UNREADABLE_CERTIFICATE as exc:
        raise InvalidInput(f"{where} is not PEM certificates: {exc}") from None
    if len(certificates) != 2:
        raise InvalidInput(
            f"{where} has the wrong number of certificates",
            expected="2 (the issuing intermediate, then the root)",
            found=len(certificates),
        )
    intermediate, root = certificates
    for name, certificate in (("intermediate", intermediate), ("root", root)):
        _check_ca(certificate, f"{where}: the {name}", now)
    _check_signed(root, root, f"{where}: the root is not self-signed")
    _check_signed(intermediate, root, f"{where}: the root did not sign the intermediate")
    return CaChain(root=root, intermediate=intermediate)


def chain_pem(chain: CaChain) -> bytes:
    """The chain as one PEM file, intermediate first: what :func:`parse_ca_chain` reads."""
    return b"".join(
        certificate.public_bytes(serialization.Encoding.PEM) for certificate in chain.certificates
    )


def _check_ca(certificate: x509.Certificate, where: str, now: dt.datetime) -> None:
    extension = extension_map(certificate).get(ExtensionOID.BASIC_CONSTRAINTS)
    constraints = None if extension is None else extension.value
    if not isinstance(constraints, x509.BasicConstraints) or not constraints.ca:
        raise InvalidInput(f"{where} is not a CA certificate", expected="basicConstraints CA:TRUE")
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if not start <= now <= end:
        raise InvalidInput(
            f"{where} is not valid now",
            expected=f"{start.isoformat()} to {end.isoformat()}",
            found=now.isoformat(),
        )


def _check_signed(certificate: x509.Certificate, issuer: x509.Certificate, message: str) -> None:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise InvalidInput(message, found=str(exc) or type(exc).__name__) from None
