"""From verified token claims to the certificate identity (protocols §1.6 table, §1.8).

:func:`principal_for` maps the claims of a verified token, according to its issuer's
type, to a :class:`Principal`: the name the proof of possession signs, the one Subject
Alternative Name of the certificate, and the Fulcio extensions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from cryptography import x509

from lacre.oidc.issuers import IssuerConfig, IssuerType, TokenError
from lacre.x509.fulcio import FulcioClaims, username_san

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")


class SanKind(StrEnum):
    """The kind of the certificate's Subject Alternative Name."""

    EMAIL = "email"
    URI = "uri"
    USERNAME = "username"


@dataclass(frozen=True)
class SubjectAltName:
    """The single SAN of a Fulcio certificate: an email, a URI or a ``user!domain`` otherName."""

    kind: SanKind
    value: str

    def general_name(self) -> x509.GeneralName:
        """Return the SAN as a cryptography ``GeneralName``."""
        if self.kind is SanKind.EMAIL:
            return x509.RFC822Name(self.value)
        if self.kind is SanKind.URI:
            return x509.UniformResourceIdentifier(self.value)
        return username_san(self.value)


@dataclass(frozen=True)
class Principal:
    """Who a verified token speaks for.

    ``name`` is what the proof of possession signs (the email, or ``sub``);
    ``subject_alt_name`` and ``claims`` are what the certificate carries.
    """

    name: str
    subject_alt_name: SubjectAltName
    claims: FulcioClaims


def principal_for(config: IssuerConfig, claims: Mapping[str, object]) -> Principal:
    """Build the principal of verified ``claims`` from the issuer ``config``.

    Raises TokenError when a claim the issuer type needs is missing or unacceptable.
    """
    issuer = _string(claims, "iss")
    subject = _string(claims, "sub")
    if config.type is IssuerType.EMAIL:
        return _email(config, claims, issuer, subject)
    san, extensions = _workload(config, claims, subject)
    fulcio = FulcioClaims(issuer=issuer, token_subject=subject, **extensions)
    return Principal(name=subject, subject_alt_name=san, claims=fulcio)


def _email(
    config: IssuerConfig, claims: Mapping[str, object], issuer: str, subject: str
) -> Principal:
    email = _string(claims, "email")
    if not _EMAIL.fullmatch(email):
        raise TokenError("email claim is not an email address", found=email)
    if config.issuer_claim is not None:
        issuer = _path(claims, config.issuer_claim)
    san = SubjectAltName(SanKind.EMAIL, email)
    fulcio = FulcioClaims(issuer=issuer, token_subject=subject)
    return Principal(name=email, subject_alt_name=san, claims=fulcio)


def _workload(
    config: IssuerConfig, claims: Mapping[str, object], subject: str
) -> tuple[SubjectAltName, dict[str, str]]:
    if config.template is not None:
        san = config.template.render(config.template.san, claims)
        if san is None:
            raise TokenError(
                f"{config.type.value} token lacks a claim its SAN needs",
                expected=config.template.san,
            )
        return SubjectAltName(SanKind.URI, san), config.template.extension_values(claims)
    if config.type is IssuerType.KUBERNETES:
        return SubjectAltName(SanKind.URI, _kubernetes_uri(claims)), {}
    if config.type is IssuerType.SPIFFE:
        return SubjectAltName(SanKind.URI, _spiffe_id(config, subject)), {}
    if config.type is IssuerType.URI:
        return SubjectAltName(SanKind.URI, _uri_subject(config, subject)), {}
    return SubjectAltName(SanKind.USERNAME, _username(config, subject)), {}


def _kubernetes_uri(claims: Mapping[str, object]) -> str:
    namespace = _path(claims, "kubernetes.io.namespace")
    account = _path(claims, "kubernetes.io.serviceaccount.name")
    for label, value in (("namespace", namespace), ("service account", account)):
        if not _K8S_NAME.fullmatch(value):
            raise TokenError(f"kubernetes {label} is not a valid name", found=value)
    return f"https://kubernetes.io/namespaces/{namespace}/serviceaccounts/{account}"


def _spiffe_id(config: IssuerConfig, subject: str) -> str:
    parts = urlsplit(subject)
    if parts.scheme != "spiffe" or not parts.netloc or parts.path in ("", "/"):
        raise TokenError(
            "subject is not a SPIFFE ID", expected="spiffe://<domain>/<path>", found=subject
        )
    if parts.query or parts.fragment or parts.port is not None or parts.username is not None:
        raise TokenError("SPIFFE ID has a query, fragment, port or user", found=subject)
    if parts.netloc != config.spiffe_trust_domain:
        raise TokenError(
            "SPIFFE ID is outside the trust domain",
            expected=config.spiffe_trust_domain,
            found=parts.netloc,
        )
    return subject


def _uri_subject(config: IssuerConfig, subject: str) -> str:
    domain = urlsplit(config.subject_domain or "")
    parts = urlsplit(subject)
    if _EMAIL.fullmatch(subject) or parts.username is not None:
        raise TokenError("uri subject must not be an email address", found=subject)
    if (parts.scheme, parts.hostname) != (domain.scheme, domain.hostname):
        raise TokenError(
            "subject is not under the subject domain",
            expected=f"{domain.scheme}://{domain.hostname}",
            found=subject,
        )
    return subject


def _username(config: IssuerConfig, subject: str) -> str:
    if "!" in subject or "@" in subject:
        raise TokenError("username subject must contain neither '!' nor '@'", found=subject)
    return f"{subject}!{config.subject_domain}"


def _string(claims: Mapping[str, object], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise TokenError(f"claim {name} is missing or not a non-empty string", found=repr(value))
    return value


def _path(claims: Mapping[str, object], path: str) -> str:
    """Read a dotted claim path; a claim name may itself contain dots (``kubernetes.io``)."""
    node: object = claims
    rest = path
    while rest:
        if not isinstance(node, Mapping):
            break
        names = (k for k in node if isinstance(k, str) and (rest == k or rest.startswith(f"{k}.")))
        name = max(names, key=len, default=None)
        if name is None:
            break
        node, rest = node[name], rest[len(name) + 1 :]
    if rest or not isinstance(node, str) or not node:
        raise TokenError(f"claim {path} is missing or not a non-empty string")
    return node
