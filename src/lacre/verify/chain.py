"""Certificate path validation at a verified time (check C) and the leaf profile (E.1).

The path is built from the leaf and the certificates of one trusted-root CA
whose validity window contains the time: certificates that come with a bundle
are never trusted. Every certificate must be valid at that time (the hybrid
model, not "now"), signatures must chain up to a self-signed root, issuers
must be CAs allowed to sign certificates within their path length, extended
key usages must allow code signing, and no unknown critical extension may
appear.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from lacre.errors import InvalidInput, VerificationError
from lacre.keys.public import ecdsa_parameters
from lacre.models.trust_reader import Authority
from lacre.verify.lru import CACHE_SIZE, Lru
from lacre.x509.certificates import asn1_error, extension_map
from lacre.x509.layout import CertificateLayout

_CODE_SIGNING = ExtendedKeyUsageOID.CODE_SIGNING
_ANY_USAGE = ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE
_T = TypeVar("_T", bound=x509.ExtensionType)


class PathCertificate:
    """A certificate of a path, with what its checks read from it, each read once.

    Built from the DER the certificate was loaded from, when the caller has it,
    so that its parts are sliced out of those bytes instead of re-encoded.
    """

    def __init__(self, certificate: x509.Certificate, der: bytes | None = None) -> None:
        """Wrap ``certificate``, loaded from ``der`` (when given)."""
        self.certificate = certificate
        if der is not None:
            self.der = der

    @functools.cached_property
    def der(self) -> bytes:
        """Its DER encoding."""
        return self.certificate.public_bytes(Encoding.DER)

    @functools.cached_property
    def layout(self) -> CertificateLayout:
        """Its DER parts; ValueError if its DER is malformed."""
        try:
            return CertificateLayout.read(self.der)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None

    @functools.cached_property
    def public_key(self) -> PublicKeyTypes:
        """Its subject public key; ValueError or UnsupportedAlgorithm if unusable."""
        return self.certificate.public_key()


def _path_certificate(cert: x509.Certificate | PathCertificate) -> PathCertificate:
    return cert if isinstance(cert, PathCertificate) else PathCertificate(cert)


class ChainValidator:
    """Validates signing certificates against the CAs of one trusted root.

    What does not depend on the signing certificate or the time (the trusted
    chain's own signatures, CA constraints and critical extensions) is checked
    once per CA and remembered, a failure by this validator and a success by
    the whole process (it depends on the chain's certificates alone). The
    signing certificate's signature by a CA (and its critical extensions) is
    remembered once it verified, keyed by the certificate's DER. Every
    certificate's validity at the time is checked on each call.
    """

    def __init__(self, authorities: Sequence[Authority], *, cache_size: int = CACHE_SIZE) -> None:
        """Validate against ``authorities`` (a trusted root's certificate authorities)."""
        self.authorities = tuple(authorities)
        self._chain_checks: dict[int, VerificationError | None] = {}
        self._issuers: dict[int, PathCertificate] = {}
        self._issued: Lru[tuple[bytes, int], bool] = Lru(cache_size)

    def verify(
        self, leaf: PathCertificate, times: Sequence[dt.datetime]
    ) -> tuple[x509.Certificate, ...]:
        """Validate ``leaf`` at each of ``times``.

        Return the issuers at the first time, root last.
        """
        if not times:
            raise VerificationError("no time to validate the certificate chain at")
        issued: dict[int, VerificationError | None] = {}
        chains = [self._verify_at(leaf, at, issued) for at in times]
        return chains[0]

    def _verify_at(
        self,
        leaf: PathCertificate,
        at: dt.datetime,
        issued: dict[int, VerificationError | None],
    ) -> tuple[x509.Certificate, ...]:
        reasons: list[str] = []
        for number, authority in enumerate(self.authorities):
            if not authority.validity.contains(at):
                continue
            failure = self._check(number, authority, leaf, at, issued)
            if failure is None:
                return authority.chain
            reasons.append(f"{authority.uri or 'CA'}: {failure}")
        raise VerificationError(
            f"certificate chain does not verify at {at.isoformat()}",
            expected="a path from the signing certificate to a trusted-root CA valid at that time",
            found="; ".join(reasons) or "no trusted-root CA is valid at that time",
        )

    def _check(
        self,
        number: int,
        authority: Authority,
        leaf: PathCertificate,
        at: dt.datetime,
        issued: dict[int, VerificationError | None],
    ) -> VerificationError | None:
        try:
            for position, cert in enumerate((leaf.certificate, *authority.chain)):
                check_valid_at(cert, at, position)
        except VerificationError as exc:
            return exc
        if number not in self._chain_checks:
            self._chain_checks[number] = _trusted_chain_failure(authority.chain)
        if self._chain_checks[number] is not None:
            return self._chain_checks[number]
        if number not in issued:
            issued[number] = self._check_issued(leaf, number)
        return issued[number]

    def _check_issued(self, leaf: PathCertificate, number: int) -> VerificationError | None:
        remembered = (leaf.der, number)
        if self._issued.get(remembered):
            return None
        if number not in self._issuers:
            self._issuers[number] = PathCertificate(self.authorities[number].chain[0])
        failure = _failure(lambda: check_end_certificate(leaf, self._issuers[number]))
        if failure is None:
            self._issued.put(remembered, True)
        return failure


def check_leaf_profile(leaf: x509.Certificate) -> None:
    """The signing certificate is not a CA, may sign (digitalSignature) and has codeSigning."""
    constraints = _basic_constraints(leaf)
    if constraints is not None and constraints.ca:
        raise VerificationError("signing certificate is a CA", expected="CA:FALSE", found="CA:TRUE")
    usage = _extension(leaf, x509.KeyUsage)
    if usage is None or not usage.digital_signature:
        raise VerificationError(
            "signing certificate key usage",
            expected="digitalSignature",
            found="no KeyUsage extension" if usage is None else "no digitalSignature",
        )
    extended = _extension(leaf, x509.ExtendedKeyUsage)
    if extended is None or _CODE_SIGNING not in extended:
        raise VerificationError(
            "signing certificate extended key usage",
            expected="codeSigning",
            found="none" if extended is None else ", ".join(o.dotted_string for o in extended),
        )


_VERIFIED_CHAINS: Lru[tuple[x509.Certificate, ...], bool] = Lru(64)
"""Trusted chains whose own checks passed, shared by every validator of the process."""


def _trusted_chain_failure(chain: tuple[x509.Certificate, ...]) -> VerificationError | None:
    """Why ``chain`` fails its own checks, or None; a pure function of its certificates."""
    if _VERIFIED_CHAINS.get(chain):
        return None
    failure = _failure(lambda: _check_trusted_chain(chain))
    if failure is None:
        _VERIFIED_CHAINS.put(chain, True)
    return failure


def _check_trusted_chain(chain: Sequence[x509.Certificate]) -> None:
    """Checks of a trusted chain (intermediates, root last) below a signing certificate."""
    check_issuer_path(chain)
    for index, cert in enumerate(chain):
        _check_code_signing_allowed(cert, position=index + 1)


def check_issuer_path(issuers: Sequence[x509.Certificate]) -> None:
    """Check the issuers of a path (intermediates, root last) above its end certificate.

    Each has no unknown critical extension, may sign certificates with as many
    intermediates below it as it has, and is signed by the next (the root by itself).
    """
    for index, cert in enumerate(issuers):
        position = index + 1  # the end certificate is at position 0 of the path
        _check_critical(cert, position)
        _check_issuer_may_sign(cert, intermediates_below=index)
        check_issued_by(cert, issuers[index + 1] if index + 1 < len(issuers) else cert)


def check_end_certificate(
    cert: x509.Certificate | PathCertificate, issuer: x509.Certificate | PathCertificate
) -> None:
    """Check the end certificate of a path: no unknown critical extension, signed by ``issuer``."""
    _check_critical(_path_certificate(cert).certificate, 0)
    check_issued_by(cert, issuer)


def _failure(check: Callable[[], None]) -> VerificationError | None:
    try:
        check()
    except VerificationError as exc:
        return exc
    return None


def check_valid_at(cert: x509.Certificate, at: dt.datetime, position: int) -> None:
    """Raise :class:`VerificationError` unless ``cert`` (path ``position``) is valid at ``at``."""
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise VerificationError(
            f"certificate {position} of the path ({subject_text(cert)}) is not valid at that time",
            expected=f"{cert.not_valid_before_utc.isoformat()} .. "
            f"{cert.not_valid_after_utc.isoformat()}",
            found=at.isoformat(),
        )


def _check_critical(cert: x509.Certificate, position: int) -> None:
    try:
        extensions = extension_map(cert).values()
    except InvalidInput as exc:
        raise VerificationError(f"certificate {position} of the path: {exc}") from None
    unknown = [
        ext.oid.dotted_string
        for ext in extensions
        if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension)
    ]
    if unknown:
        raise VerificationError(
            f"certificate {position} of the path has an unknown critical extension",
            expected="no unknown critical extension",
            found=", ".join(unknown),
        )


def check_issued_by(
    child: x509.Certificate | PathCertificate, issuer: x509.Certificate | PathCertificate
) -> None:
    """Raise :class:`VerificationError` unless ``issuer`` signed ``child``.

    ``child`` must name ``issuer``'s subject as its issuer, encoded alike (as
    ``cryptography``'s own verifier and Go's require), and ``issuer``'s key
    must verify ``child``'s signature with ``child``'s signature algorithm, which
    its signed part must name too (RFC 5280 4.1.1.2).
    """
    signed, signer = _path_certificate(child), _path_certificate(issuer)
    child_cert, issuer_cert = signed.certificate, signer.certificate
    refusal = f"certificate {subject_text(child_cert)} is not signed by {subject_text(issuer_cert)}"
    try:
        names_differ = signed.layout.issuer != signer.layout.subject
        if not names_differ:
            _verify_signed_by(signed, signer.public_key)
    except InvalidSignature:
        raise VerificationError(f"{refusal}: its signature does not verify with that key") from None
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise VerificationError(f"{refusal}: {exc}") from None
    if names_differ:
        expected = _readable(lambda: issuer_cert.subject)
        found = _readable(lambda: child_cert.issuer)
        raise VerificationError(
            f"{refusal}: the issuer names differ",
            expected=f"issuer {expected}",
            found=f"issuer {found}" + (" (encoded otherwise)" if found == expected else ""),
        )


def _verify_signed_by(cert: PathCertificate, key: PublicKeyTypes) -> None:
    """Verify ``cert``'s signature with ``key``; TypeError if ``key`` cannot make that kind."""
    layout = cert.layout
    if not layout.same_signature_algorithms:
        raise ValueError("its inner and outer signature algorithms differ")
    signature, signed = layout.signature, layout.tbs
    certificate = cert.certificate
    known = _ECDSA_PARAMETERS.get(layout.signature_algorithm)
    parameters = certificate.signature_algorithm_parameters if known is None else known
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(parameters, ec.ECDSA):
        key.verify(signature, signed, parameters)
    elif (
        isinstance(key, rsa.RSAPublicKey)
        and isinstance(parameters, _RSA_PADDINGS)
        and (digest := certificate.signature_hash_algorithm) is not None
    ):
        key.verify(signature, signed, parameters, digest)
    elif isinstance(key, _EDWARDS_KEYS) and parameters is None:
        key.verify(signature, signed)
    else:
        raise TypeError(
            f"a {certificate.signature_algorithm_oid.dotted_string} signature "
            f"cannot be made by a {type(key).__name__}"
        )


_RSA_PADDINGS = (padding.PKCS1v15, padding.PSS)
_ECDSA_PARAMETERS = {
    # AlgorithmIdentifier ecdsa-with-SHA256, -SHA384, -SHA512 (RFC 5758 3.2: no parameters)
    bytes.fromhex("300a06082a8648ce3d04030" + str(number)): ecdsa_parameters(digest)
    for number, digest in ((2, "sha256"), (3, "sha384"), (4, "sha512"))
}
"""The parameters ``cryptography`` gives these algorithms, shared, not made per certificate."""
_EDWARDS_KEYS = (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)


def _check_code_signing_allowed(cert: x509.Certificate, *, position: int) -> None:
    extended = _extension(cert, x509.ExtendedKeyUsage)
    if extended is not None and _CODE_SIGNING not in extended and _ANY_USAGE not in extended:
        raise VerificationError(
            f"issuer {subject_text(cert)} (path position {position}) does not allow code signing",
            expected="codeSigning in its extended key usage",
            found=", ".join(o.dotted_string for o in extended),
        )


def _check_issuer_may_sign(cert: x509.Certificate, *, intermediates_below: int) -> None:
    """Raise unless ``cert`` is a CA that may sign certificates, ``intermediates_below`` deep."""
    constraints = _basic_constraints(cert)
    if constraints is None or not constraints.ca:
        raise VerificationError(
            f"issuer {subject_text(cert)} is not a CA",
            expected="CA:TRUE",
            found="CA:FALSE or absent",
        )
    limit = constraints.path_length
    if limit is not None and intermediates_below > limit:
        raise VerificationError(
            f"path length constraint of {subject_text(cert)} is exceeded",
            expected=f"<= {limit} intermediates below it",
            found=intermediates_below,
        )
    usage = _extension(cert, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        raise VerificationError(
            f"issuer {subject_text(cert)} may not sign certificates",
            expected="keyCertSign",
            found="a KeyUsage without keyCertSign",
        )


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    return _extension(cert, x509.BasicConstraints)


def _extension(cert: x509.Certificate, kind: type[_T]) -> _T | None:
    try:
        extension = extension_map(cert).get(kind.oid)
    except InvalidInput as exc:
        raise VerificationError(f"certificate {subject_text(cert)}: {exc}") from None
    if extension is None:
        return None
    value = extension.value
    if not isinstance(value, kind):
        raise VerificationError(
            f"certificate {subject_text(cert)} has a malformed {kind.__name__} extension",
            found=type(value).__name__,
        )
    return value


def subject_text(cert: x509.Certificate) -> str:
    """``cert``'s subject for messages: RFC 4514 text, ``empty subject``, or why unreadable."""
    return _readable(lambda: cert.subject) or "empty subject"


def _readable(name: Callable[[], x509.Name]) -> str:
    """A name as RFC 4514 text; ``cryptography`` parses names when first read, and may fail."""
    try:
        return name().rfc4514_string()
    except ValueError as exc:
        return f"an unreadable name ({asn1_error(exc)})"
