"""Options of the verification commands: identity policy, managed key, trusted root.

Kept light on purpose: nothing heavy is imported before a command runs. The
trust options themselves come from :mod:`lacre.cli.trustopts`; verification
needs only the trusted root, so it is read here without the signing side
(``--instance`` alone goes through TUF, and so through the network).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from lacre.cli.trustopts import TrustChoice, load_trust
from lacre.errors import ConfigError, InvalidInput

if TYPE_CHECKING:
    from lacre.keys import PublicKey
    from lacre.verify import Artifact, ManagedKey, Policy

F = TypeVar("F", bound=Callable[..., Any])
CLIENT_TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
_DIGEST = re.compile(r"sha256:[0-9a-fA-F]{64}")
GITHUB_CLAIMS = ("repository", "ref", "trigger", "sha", "name")
"""The GitHub workflow claims a policy can name (``--certificate-github-workflow-<claim>``)."""


# Never compared or printed: no generated __eq__ and __repr__ (each costs start-up time).
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class IdentityRequest:
    """What the identity options ask of the signing certificate."""

    identity: str | None = None
    identity_regexp: str | None = None
    issuer: str | None = None
    issuer_regexp: str | None = None
    github: tuple[tuple[str, str], ...] = ()

    @property
    def given(self) -> list[str]:
        """The options given, by their flag names."""
        flags = [
            ("--certificate-identity", self.identity),
            ("--certificate-identity-regexp", self.identity_regexp),
            ("--certificate-oidc-issuer", self.issuer),
            ("--certificate-oidc-issuer-regexp", self.issuer_regexp),
        ]
        named = [flag for flag, value in flags if value is not None]
        return named + [f"--certificate-github-workflow-{claim}" for claim, _ in self.github]


def identity_options(command: F) -> F:
    """Add the certificate identity, issuer and GitHub workflow options, and ``--key``."""
    options = [
        click.option("--certificate-identity", metavar="ID", help="Expected identity (SAN)."),
        click.option(
            "--certificate-identity-regexp", metavar="RE", help="Regexp the identity must match."
        ),
        click.option("--certificate-oidc-issuer", metavar="URL", help="Expected OIDC issuer."),
        click.option(
            "--certificate-oidc-issuer-regexp", metavar="RE", help="Regexp the issuer must match."
        ),
        *(
            click.option(
                f"--certificate-github-workflow-{claim}",
                metavar="VALUE",
                help=f"Expected GitHub workflow {claim} (Fulcio claim).",
            )
            for claim in GITHUB_CLAIMS
        ),
        click.option(
            "--key",
            metavar="PUB",
            help="Verify a key-signed bundle with this PEM public key (or a file:/pkcs11: URI).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def identity_request(options: dict[str, Any]) -> IdentityRequest:
    """Take the identity options out of a command's keyword arguments."""
    github = tuple(
        (claim, value)
        for claim in GITHUB_CLAIMS
        if (value := options.pop(f"certificate_github_workflow_{claim}")) is not None
    )
    return IdentityRequest(
        identity=options.pop("certificate_identity"),
        identity_regexp=options.pop("certificate_identity_regexp"),
        issuer=options.pop("certificate_oidc_issuer"),
        issuer_regexp=options.pop("certificate_oidc_issuer_regexp"),
        github=github,
    )


def build_policy(request: IdentityRequest, key: str | None) -> Policy | ManagedKey:
    """The policy the options ask for; a usage error when they are missing or clash."""
    from lacre.verify import ManagedKey

    if key is not None:
        if request.given:
            raise click.UsageError(f"--key excludes {', '.join(request.given)}")
        return ManagedKey(load_public_key(key))
    return _certificate_policy(request)


def _certificate_policy(request: IdentityRequest) -> Policy:
    from lacre.verify import AllOf, Claim, Identity, Issuer

    identity = _one(request.identity, request.identity_regexp, "certificate-identity")
    issuer = _one(request.issuer, request.issuer_regexp, "certificate-oidc-issuer")
    policies: list[Policy] = [
        Identity(identity[0], regexp=identity[1]),
        Issuer(issuer[0], regexp=issuer[1]),
    ]
    policies += [Claim(value, name=f"github_workflow_{claim}") for claim, value in request.github]
    return AllOf(*policies)


def _one(exact: str | None, regexp: str | None, flag: str) -> tuple[str, bool]:
    if exact is not None and regexp is not None:
        raise click.UsageError(f"use either --{flag} or --{flag}-regexp, not both")
    if exact is None and regexp is None:
        raise click.UsageError(
            f"missing --{flag} (or --{flag}-regexp): verification needs the expected "
            "certificate identity and OIDC issuer, or --key for a key-signed bundle"
        )
    return (exact, False) if exact is not None else (str(regexp), True)


def load_public_key(value: str) -> PublicKey:
    """A PEM public key file, or the public half of a ``file:`` or ``pkcs11:`` key."""
    from lacre.cli.passphrase import key_passphrase
    from lacre.keys import PublicKey, load_signer

    if value.startswith("pkcs11:"):
        return load_signer(value, key_passphrase).public_key
    path = Path(value.removeprefix("file:"))
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the key {path}: {exc.strerror}") from None
    if b"PUBLIC KEY-----" in pem:
        return PublicKey.from_pem(pem)
    return load_signer(f"file:{path}", key_passphrase).public_key


def load_artifact(file_or_digest: str) -> Artifact:
    """The artifact: a file's bytes, or ``sha256:<hex>`` (when no such file exists)."""
    from lacre.verify import Artifact

    path = Path(file_or_digest)
    if _DIGEST.fullmatch(file_or_digest) and not path.exists():
        return Artifact.from_digest(file_or_digest)
    try:
        return Artifact.from_bytes(path.read_bytes())
    except OSError as exc:
        raise InvalidInput(
            f"cannot read the artifact {file_or_digest}",
            expected="a readable file or sha256:<64 hex digits>",
            found=exc.strerror,
        ) from None


def read_bundle(path: Path) -> bytes:
    """The bundle file's bytes; a missing or unreadable file is a clear error."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"cannot read the bundle {path}",
            expected="a Sigstore bundle file (see --bundle)",
            found=exc.strerror,
        ) from None


def trusted_root_bytes(choice: TrustChoice) -> tuple[bytes, tuple[str, ...]]:
    """The trusted root the trust options name, and warnings to show."""
    if choice.trusted_root is not None:
        return choice.trusted_root.read_bytes(), ()
    if choice.trust_config is not None:
        return _root_of_trust_config(choice.trust_config), ()
    documents = load_trust(choice)
    return documents.trusted_root, documents.warnings


def _root_of_trust_config(path: Path) -> bytes:
    try:
        document = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"trust config {path} is not valid JSON", found=str(exc)) from None
    media_type = document.get("mediaType") if isinstance(document, dict) else None
    if media_type != CLIENT_TRUST_CONFIG_MEDIA_TYPE:
        raise ConfigError(
            f"trust config {path}: mediaType",
            expected=CLIENT_TRUST_CONFIG_MEDIA_TYPE,
            found=repr(media_type),
        )
    root = document.get("trustedRoot")
    if not isinstance(root, dict):
        raise ConfigError(f"trust config {path} has no trustedRoot object")
    return json.dumps(root).encode()
