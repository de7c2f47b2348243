"""``lacre verify-blob`` and ``lacre verify-attestation``: offline verification of bundles.

Verification reads only local files (the artifact, the bundle and the trust
material) unless ``--instance`` asks for the instance's trust through TUF.
The library is imported when a command runs, not before: ``--help`` and
start-up stay fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lacre.cli.reporting import reports_errors
from lacre.cli.trustopts import trust_options
from lacre.cli.verifyopts import (
    PREDICATE_TYPE_HELP,
    identity_options,
    load_artifact,
    names_digest,
    policy_from_options,
    read_bundle,
    verifier_from_options,
)

if TYPE_CHECKING:
    from lacre.verify import VerificationResult

_BUNDLE = click.Path(dir_okay=False, path_type=Path)


def _verify(
    file_or_digest: str, bundle: Path | None, options: dict[str, Any]
) -> VerificationResult:
    """Verify ``bundle`` for the artifact under the options' policy and trust."""
    if bundle is None:
        if names_digest(file_or_digest):
            raise click.UsageError("with a digest in place of FILE, name the bundle with --bundle")
        bundle = Path(f"{file_or_digest}.sigstore.json")
    artifact = load_artifact(file_or_digest)  # a missing FILE is named before its bundle
    policy = policy_from_options(options)
    verifier = verifier_from_options(options)
    return verifier.verify(read_bundle(bundle), artifact, policy)


@click.command("verify-blob")
@click.argument("file_or_digest", metavar="FILE")
@click.option("--bundle", type=_BUNDLE, help="The bundle (default: FILE.sigstore.json).")
@identity_options
@trust_options
@reports_errors
def verify_blob(file_or_digest: str, bundle: Path | None, **options: Any) -> None:
    """Verify FILE (or sha256:<hex>) against its Sigstore bundle, offline.

    Keyless bundles need the expected identity and OIDC issuer (exact or
    regexp); key-signed bundles need --key. For a DSSE bundle, FILE must be a
    subject of its in-toto statement.
    """
    _verify(file_or_digest, bundle, options)
    click.echo(f"OK: {file_or_digest}", err=True)


@click.command("verify-attestation")
@click.argument("file_or_digest", metavar="FILE")
@click.option("--bundle", type=_BUNDLE, help="The bundle (default: FILE.sigstore.json).")
@click.option(
    "--type",
    "type_",
    required=True,
    metavar="TYPE",
    help=PREDICATE_TYPE_HELP,
)
@identity_options
@trust_options
@reports_errors
def verify_attestation(
    file_or_digest: str, bundle: Path | None, type_: str, **options: Any
) -> None:
    """Verify an attestation about FILE and print its predicate (JSON) on stdout.

    The bundle must hold an in-toto statement in a DSSE envelope, naming FILE
    among its subjects, with the predicate type TYPE.
    """
    from lacre.sign.statement import predicate_type

    expected = predicate_type(type_)
    result = _verify(file_or_digest, bundle, options)
    statement = _statement(result, expected)
    click.echo(json.dumps(statement.predicate, indent=2, sort_keys=True))
    click.echo(f"OK: {file_or_digest}", err=True)


def _statement(result: VerificationResult, expected: str) -> Any:
    from lacre.verify.attestation import attested_statement

    return attested_statement(result.bundle.dsse_envelope, expected, "bundle")
