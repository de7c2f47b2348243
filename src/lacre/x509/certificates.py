"""Certificates: loading from PEM or DER, the canonical PEM form, SAN identities, CA flag."""

from __future__ import annotations

import re
from collections.abc import Mapping

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtensionOID

from lacre import der
from lacre.errors import InvalidInput
from lacre.x509.identity_cache import IdentityCache

ExtensionMap = Mapping[x509.ObjectIdentifier, x509.Extension[x509.ExtensionType]]
"""A certificate's extensions by OID."""

_EXTENSION_MAPS: IdentityCache[ExtensionMap] = IdentityCache(8)

UNREADABLE_CERTIFICATE = (ValueError, x509.InvalidVersion)
"""What ``cryptography`` raises for certificate bytes it cannot load (a version other than
v1 to v3 is not a ``ValueError``)."""

FULCIO_USERNAME_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.7")
"""SAN ``otherName`` type Fulcio uses for a bare username (DER ``UTF8String``)."""


_PARSE_ERROR = re.compile(r"ParseError \{ kind: (\w+)[^\n]*?(?:location: \[([^\]]*)\])?[ }]*$")
_PARSE_KINDS = {
    "ShortData": "truncated data",
    "ExtraData": "data after the end",
    "InvalidLength": "an invalid length",
    "UnexpectedTag": "an unexpected tag",
    "InvalidValue": "an invalid value",
    "InvalidTag": "an invalid tag",
    "InvalidSetOrdering": "a SET out of order",
    "EncodedDefault": "an encoded DEFAULT value",
    "IntegerOverflow": "an integer overflow",
}


def asn1_error(exc: Exception) -> str:
    """``cryptography``'s DER parse error in words (``truncated data in Certificate::tbs_cert``).

    Text that is not such an error is returned as it is.
    """
    text = str(exc)
    found = _PARSE_ERROR.search(text)
    if found is None or found.group(1) not in _PARSE_KINDS:
        return text
    where = found.group(2)
    place = f" in {where.replace(chr(34), '')}" if where else ""
    return f"{_PARSE_KINDS[found.group(1)]}{place}"


def load_certificate(data: bytes) -> x509.Certificate:
    """Parse one X.509 certificate given as PEM (``CERTIFICATE`` block) or DER."""
    if b"-----BEGIN" in data:
        try:
            return x509.load_pem_x509_certificate(data)
        except UNREADABLE_CERTIFICATE as exc:
            raise InvalidInput(f"certificate is not a valid PEM CERTIFICATE: {exc}") from exc
    try:
        return x509.load_der_x509_certificate(data)
    except UNREADABLE_CERTIFICATE as exc:
        raise InvalidInput(
            "certificate is neither PEM nor DER",
            expected="an X.509 certificate",
            found=asn1_error(exc),
        ) from exc


def extension_map(cert: x509.Certificate) -> ExtensionMap:
    """Every extension of ``cert`` by OID, built once for each certificate object.

    ``cryptography`` finds one extension by walking them all; a verifier that
    reads several extensions of one certificate reads this map instead.
    :class:`InvalidInput` when an extension is malformed or repeated.
    """
    found = _EXTENSION_MAPS.get(cert)
    if found is None:
        try:
            found = {extension.oid: extension for extension in cert.extensions}
        except (ValueError, x509.DuplicateExtension) as exc:
            raise InvalidInput(f"certificate extensions are malformed: {asn1_error(exc)}") from None
        _EXTENSION_MAPS.put(found, cert)
    return found


def canonical_pem(value: x509.Certificate | PublicKeyTypes) -> bytes:
    """Return the canonical PEM of a certificate or public key.

    The canonical form is what ``cryptography`` writes: base64 in 64-character
    lines, LF line endings and a trailing newline (public keys as a
    SubjectPublicKeyInfo ``PUBLIC KEY`` block).
    """
    if isinstance(value, x509.Certificate):
        return value.public_bytes(serialization.Encoding.PEM)
    return value.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def subject_identities(cert: x509.Certificate) -> list[str]:
    """Return the Subject Alternative Name values of ``cert``, lower-cased, in SAN order.

    Covers e-mail addresses, URIs, DNS names, IP addresses and Fulcio's
    ``otherName`` username (when it is a simple ``UTF8String``). A certificate
    without the extension has no identities; a malformed extension is refused.
    """
    extension = extension_map(cert).get(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if extension is None or not isinstance(extension.value, x509.SubjectAlternativeName):
        return []
    identities: list[str] = []
    for name in extension.value:
        identity = _identity(name)
        if identity is not None and identity.lower() not in identities:
            identities.append(identity.lower())
    return identities


def is_ca(cert: x509.Certificate) -> bool:
    """Return whether ``cert`` has BasicConstraints with ``cA`` set."""
    extension = extension_map(cert).get(ExtensionOID.BASIC_CONSTRAINTS)
    return (
        extension is not None
        and isinstance(extension.value, x509.BasicConstraints)
        and extension.value.ca
    )


def _identity(name: x509.GeneralName) -> str | None:
    if isinstance(name, x509.RFC822Name | x509.UniformResourceIdentifier | x509.DNSName):
        return name.value
    if isinstance(name, x509.IPAddress):
        return str(name.value)
    if isinstance(name, x509.OtherName) and name.type_id == FULCIO_USERNAME_OID:
        return _der_utf8string(name.value)
    return None


def _der_utf8string(data: bytes) -> str | None:
    """Decode a DER ``UTF8String``; None if it is not one."""
    try:
        return der.utf8_string(data, "username")
    except InvalidInput:
        return None
