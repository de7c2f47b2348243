"""``lacre-conformance``: the Sigstore conformance-suite client protocol.

The suite runs ``ENTRY verify-bundle [--staging] --bundle FILE
(--certificate-identity ID --certificate-oidc-issuer URL | --key PUBKEY)
[--trusted-root F] FILE_OR_DIGEST`` and ``ENTRY sign-bundle [--staging]
[--in-toto] --identity-token TOKEN --bundle FILE [--trusted-root F]
[--signing-config F] FILE``; exit status 0 means verified (or signed). Without
``--trusted-root`` and ``--signing-config`` the embedded Sigstore public-good
ones are used.
"""

from __future__ import annotations

from pathlib import Path

import click

from lacre.cli.reporting import reports_errors
from lacre.cli.verifyopts import IdentityRequest, build_policy, load_artifact
from lacre.errors import ConfigError
from lacre.verify import Verifier

_IN = click.Path(dir_okay=False, exists=True, path_type=Path)
_OUT = click.Path(dir_okay=False, path_type=Path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Sigstore conformance-suite client for lacre."""


@cli.command("verify-bundle")
@click.option("--staging", is_flag=True, help="Use the staging instance (needs --trusted-root).")
@click.option(
    "--bundle",
    "bundle_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The bundle to verify.",
)
@click.option("--certificate-identity", "identity", help="Expected certificate identity (SAN).")
@click.option("--certificate-oidc-issuer", "issuer", help="Expected OIDC issuer.")
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Verify with this PEM public key instead of a certificate identity.",
)
@click.option(
    "--trusted-root",
    "trusted_root",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The trusted_root.json to verify against (default: Sigstore public good).",
)
@click.argument("file_or_digest")
@reports_errors
def verify_bundle(
    staging: bool,
    bundle_path: Path,
    identity: str | None,
    issuer: str | None,
    key_path: Path | None,
    trusted_root: Path | None,
    file_or_digest: str,
) -> None:
    """Verify a bundle for a file (or a sha256:<hex> digest); exit 0 when it verifies."""
    verifier = _verifier(trusted_root, staging=staging)
    request = IdentityRequest(identity=identity, issuer=issuer)
    policy = build_policy(request, str(key_path) if key_path is not None else None)
    verifier.verify(bundle_path.read_bytes(), load_artifact(file_or_digest), policy)
    click.echo("OK: bundle verified")


@cli.command("sign-bundle")
@click.option("--staging", is_flag=True, help="Use the staging instance (needs both files).")
@click.option(
    "--in-toto", "in_toto", is_flag=True, help="FILE is an in-toto statement: sign it in DSSE."
)
@click.option("--identity-token", required=True, help="The OIDC identity token.")
@click.option(
    "--bundle", "bundle_path", required=True, type=_OUT, help="Where to write the bundle."
)
@click.option("--trusted-root", type=_IN, help="The trusted_root.json (default: public good).")
@click.option("--signing-config", type=_IN, help="The signing config (default: public good).")
@click.argument("file", type=_IN)
@reports_errors
def sign_bundle(
    staging: bool,
    in_toto: bool,
    identity_token: str,
    bundle_path: Path,
    trusted_root: Path | None,
    signing_config: Path | None,
    file: Path,
) -> None:
    """Sign FILE keylessly with the token and write its bundle; exit 0 when signed."""
    from lacre.cli.outputs import check_writable, write_output
    from lacre.cli.sign import signing_context
    from lacre.sign.defaults import public_good_signing_config_bytes
    from lacre.verify.roots import public_good_trusted_root_bytes

    if staging and (trusted_root is None or signing_config is None):
        raise ConfigError(
            "--staging needs --trusted-root and --signing-config",
            expected="the staging instance's files",
            found="the default (public good)",
        )
    context, _ = signing_context(
        trusted_root.read_bytes() if trusted_root else public_good_trusted_root_bytes(),
        signing_config.read_bytes() if signing_config else public_good_signing_config_bytes(),
        None,
    )
    check_writable([bundle_path])
    session = context.keyless(identity_token)
    data = file.read_bytes()
    bundle = session.sign_statement(data) if in_toto else session.sign_blob(data)
    write_output(bundle_path, bundle.to_bytes())


def _verifier(trusted_root: Path | None, *, staging: bool) -> Verifier:
    if trusted_root is not None:
        return Verifier.from_file(trusted_root)
    if staging:
        raise ConfigError(
            "--staging needs --trusted-root",
            expected="the staging trusted_root.json",
            found="no --trusted-root",
        )
    return Verifier.public_good()


def main() -> None:
    """Run the ``lacre-conformance`` command."""
    cli()


if __name__ == "__main__":
    main()
