"""Options of the verification commands: identity policy, managed key, trusted root.

Kept light on purpose: nothing heavy is imported before a command runs. The
trust options themselves come from :mod:`lacre.cli.trustopts`; verification
needs only the trusted root (``--instance`` and the public-good default go
through TUF, and so through the network, unless ``--offline``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from lacre.cli.stacking import with_options
from lacre.cli.trustopts import load_trusted_root, pop_trust_choice
from lacre.errors import ConfigError, InvalidInput
from lacre.record import record

if TYPE_CHECKING:
    from lacre.keys import PublicKey
    from lacre.verify import Artifact, ManagedKey, Policy, Verifier

F = TypeVar("F", bound=Callable[..., Any])
GITHUB_CLAIMS = ("repository", "ref", "trigger", "sha", "name")
"""The GitHub workflow claims a policy can name (``--certificate-github-workflow-<claim>``)."""


@record(kw_only=True)
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


PREDICATE_TYPE_HELP = (
    "slsaprovenance1, slsaprovenance02, spdxjson, cyclonedx, vuln, openvex, custom, "
    "or a predicate type URI."
)
"""The help of every ``--type`` option: the short names :mod:`lacre.sign.statement` knows."""


def identity_options(command: F) -> F:
    """Add the certificate identity, issuer and GitHub workflow options, and ``--key``."""
    options = [
        click.option("--certificate-identity", metavar="ID", help="Expected identity (SAN)."),
        click.option(
            "--certificate-identity-regexp",
            metavar="RE",
            help="Python regexp the whole identity must match (anchored at both ends).",
        ),
        click.option("--certificate-oidc-issuer", metavar="URL", help="Expected OIDC issuer."),
        click.option(
            "--certificate-oidc-issuer-regexp",
            metavar="RE",
            help="Python regexp the whole issuer must match (anchored at both ends).",
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
    return with_options(command, options)


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


def policy_from_options(options: dict[str, Any]) -> Policy | ManagedKey:
    """Take the identity options and ``--key`` out of a command's keyword arguments: the policy."""
    key = options.pop("key")
    return build_policy(identity_request(options), key)


def verifier_from_options(options: dict[str, Any]) -> Verifier:
    """Take the trust options out of a command's keyword arguments: a verifier for their root.

    Warnings about the trust material (a failed update, a cached copy) go to stderr.
    """
    from lacre.models.trust_reader import TrustedRoot
    from lacre.verify import Verifier

    root, warnings = load_trusted_root(pop_trust_choice(options))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    return Verifier(TrustedRoot.parse(root))


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
    from lacre.keys.uri import key_path

    if value.startswith("pkcs11:"):
        from lacre.keys.pkcs11 import Pkcs11Signer

        with Pkcs11Signer.open(value, key_passphrase) as token:  # logged out once read
            return token.public_key
    path = key_path(value)
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the key {path}: {exc.strerror}") from None
    if b"PUBLIC KEY-----" in pem:
        return PublicKey.from_pem(pem)
    if b"PRIVATE KEY-----" in pem:
        return load_signer(f"file:{path}", key_passphrase).public_key
    raise InvalidInput(
        f"key {path} holds no PEM key",
        expected="a PUBLIC KEY block (or a private key file)",
        found=f"{len(pem)} bytes of something else",
    )


def names_digest(file_or_digest: str) -> bool:
    """Whether FILE is given as a ``sha256:`` digest: it starts so and no such file exists."""
    return file_or_digest.startswith("sha256:") and not Path(file_or_digest).exists()


def load_artifact(file_or_digest: str) -> Artifact:
    """The artifact: a file's bytes, or ``sha256:<hex>`` (when no such file exists)."""
    from lacre.verify import Artifact

    if names_digest(file_or_digest):
        return Artifact.from_digest(file_or_digest)
    expected = "a readable file or sha256:<64 hex digits>"
    return Artifact.from_bytes(_read(Path(file_or_digest), "artifact", expected))


def read_bundle(path: Path) -> bytes:
    """The bundle file's bytes; a missing or unreadable file is a clear error."""
    return _read(path, "bundle", "a Sigstore bundle file (see --bundle)")


def _read(path: Path, what: str, expected: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"cannot read the {what} {path}", expected=expected, found=exc.strerror
        ) from None
