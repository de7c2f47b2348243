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
from collections.abc import Sequence
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID

from lacre.errors import VerificationError
from lacre.models.trust_reader import Authority

_CODE_SIGNING = ExtendedKeyUsageOID.CODE_SIGNING
_ANY_USAGE = ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE
_T = TypeVar("_T", bound=x509.ExtensionType)


def verify_chain(
    leaf: x509.Certificate, authorities: Sequence[Authority], at: dt.datetime
) -> tuple[x509.Certificate, ...]:
    """Validate ``leaf`` at ``at`` against the CAs valid then; return its issuers, root last."""
    candidates = [ca for ca in authorities if ca.validity.contains(at)]
    reasons: list[str] = []
    for authority in candidates:
        try:
            _check_path((leaf, *authority.chain), at)
        except VerificationError as exc:
            reasons.append(f"{authority.uri or 'CA'}: {exc}")
        else:
            return authority.chain
    raise VerificationError(
        f"certificate chain does not verify at {at.isoformat()}",
        expected="a path from the signing certificate to a trusted-root CA valid at that time",
        found="; ".join(reasons) or "no trusted-root CA is valid at that time",
    )


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


def _check_path(path: Sequence[x509.Certificate], at: dt.datetime) -> None:
    for position, cert in enumerate(path):
        _check_time(cert, at, position)
        _check_critical(cert, position)
    for position in range(1, len(path)):
        _check_issuer(path[position - 1], path[position])
        _check_ca(path[position], intermediates_below=position - 1, position=position)
    root = path[-1]
    _check_issuer(root, root)


def _check_time(cert: x509.Certificate, at: dt.datetime, position: int) -> None:
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise VerificationError(
            f"certificate {position} of the path ({_name(cert)}) is not valid at that time",
            expected=f"{cert.not_valid_before_utc.isoformat()} .. "
            f"{cert.not_valid_after_utc.isoformat()}",
            found=at.isoformat(),
        )


def _check_critical(cert: x509.Certificate, position: int) -> None:
    try:
        extensions = list(cert.extensions)
    except (ValueError, x509.DuplicateExtension) as exc:
        raise VerificationError(
            f"certificate {position} of the path has malformed extensions: {exc}"
        ) from None
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


def _check_issuer(child: x509.Certificate, issuer: x509.Certificate) -> None:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise VerificationError(
            f"certificate {_name(child)} is not signed by {_name(issuer)}",
            expected=f"issuer {issuer.subject.rfc4514_string()}",
            found=f"issuer {child.issuer.rfc4514_string()} ({exc or 'bad signature'})",
        ) from None


def _check_ca(cert: x509.Certificate, *, intermediates_below: int, position: int) -> None:
    constraints = _basic_constraints(cert)
    if constraints is None or not constraints.ca:
        raise VerificationError(
            f"issuer {_name(cert)} is not a CA", expected="CA:TRUE", found="CA:FALSE or absent"
        )
    limit = constraints.path_length
    if limit is not None and intermediates_below > limit:
        raise VerificationError(
            f"path length constraint of {_name(cert)} is exceeded",
            expected=f"<= {limit} intermediates below it",
            found=intermediates_below,
        )
    usage = _extension(cert, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        raise VerificationError(
            f"issuer {_name(cert)} may not sign certificates",
            expected="keyCertSign",
            found="a KeyUsage without keyCertSign",
        )
    extended = _extension(cert, x509.ExtendedKeyUsage)
    if extended is not None and _CODE_SIGNING not in extended and _ANY_USAGE not in extended:
        raise VerificationError(
            f"issuer {_name(cert)} (path position {position}) does not allow code signing",
            expected="codeSigning in its extended key usage",
            found=", ".join(o.dotted_string for o in extended),
        )


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    return _extension(cert, x509.BasicConstraints)


def _extension(cert: x509.Certificate, kind: type[_T]) -> _T | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    except (ValueError, x509.DuplicateExtension) as exc:
        raise VerificationError(
            f"certificate {_name(cert)} has malformed extensions: {exc}"
        ) from None


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "empty subject"
