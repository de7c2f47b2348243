"""Verification policies: what the signing certificate must say about its signer.

A policy's :meth:`~Policy.check` raises :class:`VerificationError` naming what
was expected and what was found; it never returns False. Policies compose
with :class:`AllOf` and :class:`AnyOf`. Regular expressions must match the
whole value (:func:`re.fullmatch`). Key-based verification uses
:class:`ManagedKey` instead of a certificate policy.
"""

from __future__ import annotations

import re
from typing import Protocol

from cryptography import x509

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import PublicKey
from lacre.record import field_names, record
from lacre.x509.certificates import extension_map
from lacre.x509.fulcio import USERNAME_OID, FulcioClaims, decode_utf8string, read_issuer

_SAN = x509.SubjectAlternativeName.oid


class Policy(Protocol):
    """A rule about the signing certificate."""

    def check(self, certificate: x509.Certificate) -> None:
        """Raise :class:`VerificationError` unless ``certificate`` satisfies the rule."""
        ...


@record
class ManagedKey:
    """Verify with this public key instead of a certificate (a bundle with a key hint)."""

    key: PublicKey

    @classmethod
    def from_pem(cls, pem: bytes) -> ManagedKey:
        """The key from a PEM ``PUBLIC KEY`` block."""
        return cls(PublicKey.from_pem(pem))


@record
class _Match:
    """An expected value: an exact string or a regular expression over the whole value."""

    expected: str
    regexp: bool = False

    def __post_init__(self) -> None:
        """Refuse a regular expression that does not compile."""
        if self.regexp:
            try:
                re.compile(self.expected)
            except re.error as exc:
                raise InvalidInput(
                    "policy regular expression does not compile",
                    expected="a Python regular expression",
                    found=f"{self.expected!r} ({exc})",
                ) from None

    def matches(self, value: str) -> bool:
        """Whether ``value`` is (or fully matches) the expectation."""
        if self.regexp:
            return re.fullmatch(self.expected, value) is not None
        return value == self.expected

    def describe(self) -> str:
        """The expectation for error messages."""
        return f"/{self.expected}/" if self.regexp else self.expected


@record
class Identity(_Match):
    """The certificate's identity (an e-mail, URI or username SAN) is ``expected``."""

    def check(self, certificate: x509.Certificate) -> None:
        """Raise unless one SAN value matches."""
        found = san_values(certificate)
        if not any(self.matches(value) for value in found):
            raise VerificationError(
                "certificate identity mismatch",
                expected=self.describe(),
                found=", ".join(found) or "no identity",
            )


@record
class Issuer(_Match):
    """The certificate's OIDC issuer (Fulcio extension .1.8, else .1.1) is ``expected``."""

    def check(self, certificate: x509.Certificate) -> None:
        """Raise unless the issuer matches."""
        issuer = issuer_of(certificate)
        if not self.matches(issuer):
            raise VerificationError(
                "certificate OIDC issuer mismatch", expected=self.describe(), found=issuer
            )


@record
class Claim(_Match):
    """A Fulcio claim (a :class:`~lacre.x509.fulcio.FulcioClaims` field) is ``expected``."""

    name: str = ""

    def __post_init__(self) -> None:
        """Refuse an unknown claim name."""
        super().__post_init__()
        if self.name not in field_names(FulcioClaims):
            raise InvalidInput(
                "unknown certificate claim",
                expected="a FulcioClaims field name",
                found=repr(self.name),
            )

    def check(self, certificate: x509.Certificate) -> None:
        """Raise unless the claim is present and matches."""
        value = getattr(claims_of(certificate), self.name)
        if value is None or not self.matches(value):
            raise VerificationError(
                f"certificate claim {self.name} mismatch",
                expected=self.describe(),
                found=value if value is not None else "no such extension",
            )


def github_workflow_repository(expected: str, *, regexp: bool = False) -> Claim:
    """Policy on the GitHub workflow repository (``.1.5``), e.g. ``owner/repo``."""
    return Claim(expected, regexp, name="github_workflow_repository")


def github_workflow_ref(expected: str, *, regexp: bool = False) -> Claim:
    """Policy on the GitHub workflow ref (``.1.6``), e.g. ``refs/heads/main``."""
    return Claim(expected, regexp, name="github_workflow_ref")


def github_workflow_trigger(expected: str, *, regexp: bool = False) -> Claim:
    """Policy on the GitHub workflow trigger (``.1.2``), e.g. ``push``."""
    return Claim(expected, regexp, name="github_workflow_trigger")


def github_workflow_sha(expected: str, *, regexp: bool = False) -> Claim:
    """Policy on the GitHub workflow commit SHA (``.1.3``)."""
    return Claim(expected, regexp, name="github_workflow_sha")


def github_workflow_name(expected: str, *, regexp: bool = False) -> Claim:
    """Policy on the GitHub workflow name (``.1.4``)."""
    return Claim(expected, regexp, name="github_workflow_name")


class AllOf:
    """Every policy must hold; the first failure is raised."""

    def __init__(self, *policies: Policy) -> None:
        """Combine ``policies`` (at least one)."""
        if not policies:
            raise InvalidInput("AllOf needs at least one policy", expected=">= 1", found=0)
        self.policies = policies

    def check(self, certificate: x509.Certificate) -> None:
        """Raise the first failing policy's error."""
        for policy in self.policies:
            policy.check(certificate)


class AnyOf:
    """At least one policy must hold; otherwise every reason is reported."""

    def __init__(self, *policies: Policy) -> None:
        """Combine ``policies`` (at least one)."""
        if not policies:
            raise InvalidInput("AnyOf needs at least one policy", expected=">= 1", found=0)
        self.policies = policies

    def check(self, certificate: x509.Certificate) -> None:
        """Return at the first policy that holds; raise listing every failure otherwise."""
        reasons = []
        for policy in self.policies:
            try:
                policy.check(certificate)
            except VerificationError as exc:
                reasons.append(str(exc))
            else:
                return
        raise VerificationError("no policy of AnyOf holds: " + "; ".join(reasons))


def claims_of(certificate: x509.Certificate) -> FulcioClaims:
    """The Fulcio claims of ``certificate``; a malformed or missing issuer fails verification."""
    try:
        return FulcioClaims.from_certificate(certificate)
    except InvalidInput as exc:
        if isinstance(exc, VerificationError):
            raise
        raise VerificationError(f"certificate claims: {exc}") from exc


def issuer_of(certificate: x509.Certificate) -> str:
    """The OIDC issuer: extension ``.1.8`` if present, else ``.1.1``; the two must agree."""
    try:
        return read_issuer(certificate)
    except InvalidInput as exc:
        raise VerificationError(f"certificate claims: {exc}") from exc


def san_values(certificate: x509.Certificate) -> list[str]:
    """The identity SAN values: e-mail addresses, URIs and Fulcio usernames, in order."""
    try:
        extension = extension_map(certificate).get(_SAN)
    except InvalidInput as exc:
        raise VerificationError(f"signing certificate: {exc}") from None
    if extension is None:
        return []
    names = extension.value
    if not isinstance(names, x509.SubjectAlternativeName):  # pragma: no cover - cryptography
        raise VerificationError("certificate SAN extension is malformed")
    values: list[str] = []
    for name in names:
        if isinstance(name, x509.RFC822Name | x509.UniformResourceIdentifier):
            values.append(name.value)
        elif isinstance(name, x509.OtherName) and name.type_id == USERNAME_OID:
            try:
                values.append(decode_utf8string(name.value, oid=USERNAME_OID))
            except InvalidInput:
                continue
    return values
