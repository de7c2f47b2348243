"""Every reader of certificate extensions refuses malformed or repeated ones, naming its context."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lacre.errors import InvalidInput, VerificationError
from lacre.verify.chain import check_leaf_profile
from lacre.verify.policy import issuer_of, san_values
from lacre.verify.rfc3161 import subject_key_id
from lacre.verify.sct import verify_embedded_scts
from lacre.verify.tsa import TrustedTsa
from lacre.x509.certificates import extension_map
from lacre.x509.fulcio import FulcioClaims
from tests.unit.x509.builders import self_signed
from tests.unit.x509.damaged import with_two_sans

_KEY = ec.generate_private_key(ec.SECP256R1())


def _certificate(*extensions: x509.ExtensionType) -> x509.Certificate:
    return self_signed(_KEY, *extensions)


def _malformed() -> x509.Certificate:
    """A SAN extension whose value is a DER NULL, not a sequence of names."""
    return _certificate(x509.UnrecognizedExtension(x509.SubjectAlternativeName.oid, b"\x05\x00"))


def _repeated() -> x509.Certificate:
    """Two SAN extensions."""
    names = [x509.RFC822Name("a@example.com")]
    cert = _certificate(x509.SubjectAlternativeName(names), x509.IssuerAlternativeName(names))
    return x509.load_der_x509_certificate(
        with_two_sans(cert.public_bytes(serialization.Encoding.DER))
    )


BAD = pytest.mark.parametrize(
    ("make", "flaw"),
    [
        (_malformed, "an unexpected tag in subject_alternative_name"),
        (_repeated, "Duplicate 2.5.29.17"),
    ],
    ids=["malformed", "repeated"],
)


@BAD
def test_the_extension_map_refuses_them(make: Callable[[], x509.Certificate], flaw: str) -> None:
    with pytest.raises(InvalidInput, match=f"^certificate extensions are malformed: .*{flaw}"):
        extension_map(make())
    with pytest.raises(InvalidInput, match=r"^certificate extensions are malformed"):
        FulcioClaims.from_certificate(make())


def _scts(cert: x509.Certificate) -> None:
    verify_embedded_scts(cert, cert, None, issuer_key_hash=b"\x00" * 32)  # type: ignore[arg-type]


READERS: list[tuple[Callable[[x509.Certificate], object], str]] = [
    (check_leaf_profile, "certificate CN=test"),
    (san_values, "signing certificate"),
    (issuer_of, "certificate claims"),
    (_scts, "signing certificate"),
]


@BAD
@pytest.mark.parametrize(("read", "context"), READERS, ids=["profile", "san", "issuer", "scts"])
def test_each_verification_reader_refuses_them_in_its_own_words(
    make: Callable[[], x509.Certificate],
    flaw: str,
    read: Callable[[x509.Certificate], object],
    context: str,
) -> None:
    pattern = f"^{context}: certificate extensions are malformed: .*{flaw}"
    with pytest.raises(VerificationError, match=pattern):
        read(make())


@BAD
def test_a_timestamp_authority_with_them_is_unusable(
    make: Callable[[], x509.Certificate], flaw: str
) -> None:
    cert = make()
    assert subject_key_id(cert) is None
    failure = TrustedTsa([cert]).chain_failure
    assert failure is not None
    assert f"TSA certificate: certificate extensions are malformed: {flaw}" in str(failure)
