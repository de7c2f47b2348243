"""``lacre sign-blob``, ``lacre attest`` and ``lacre generate-key-pair``."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from lacre.cli.outputs import check_writable, write_output
from lacre.cli.passphrase import ask_password, key_passphrase
from lacre.cli.reporting import reports_errors
from lacre.cli.trustopts import (
    TrustChoice,
    load_trust,
    pop_trust_choice,
    signing_options,
    trust_options,
)
from lacre.cli.verifyopts import PREDICATE_TYPE_HELP
from lacre.errors import ConfigError

TOKEN_ENV = "SIGSTORE_ID_TOKEN"  # noqa: S105 - the variable name, not a secret
_IN = click.Path(dir_okay=False, exists=True, path_type=Path)
_OUT = click.Path(dir_okay=False, path_type=Path)

if TYPE_CHECKING:
    from lacre.oidc.flows import IdentityToken
    from lacre.sign import SigningContext, SigningSession


@dataclass(frozen=True, kw_only=True)
class SignRequest:
    """What the shared options of ``sign-blob`` and ``attest`` ask for."""

    trust: TrustChoice
    key: str | None
    identity_token: str | None
    device: bool
    oidc_issuer: str | None
    oidc_client_id: str
    rekor_version: int | None


def _outputs(files: tuple[Path, ...], bundle: Path | None) -> list[Path]:
    if bundle is not None and len(files) != 1:
        raise click.UsageError("--bundle goes with a single FILE only")
    return [bundle] if bundle is not None else [Path(f"{f}.sigstore.json") for f in files]


def session_for(request: SignRequest) -> SigningSession:
    """The signing session the shared signing and trust options ask for."""
    logging.basicConfig(format="warning: %(message)s", level=logging.WARNING)
    documents = load_trust(request.trust)
    for warning in documents.warnings:
        click.echo(f"warning: {warning}", err=True)
    if documents.signing_config is None:
        raise ConfigError("signing needs a signing config", expected="--signing-config")
    context, oidc_url = signing_context(
        documents.trusted_root, documents.signing_config, request.rekor_version
    )
    if request.key is not None:
        from lacre.keys import load_signer

        return context.with_key(load_signer(request.key, key_passphrase))
    issuer = request.oidc_issuer or oidc_url
    return context.keyless(_token(request, issuer).raw)


def signing_context(
    trusted_root: bytes, signing_config: bytes, rekor_version: int | None
) -> tuple[SigningContext, str | None]:
    """The signing context the documents describe, and the OIDC issuer URL they name."""
    from lacre.clients.fulcio import FulcioClient
    from lacre.clients.rekor_v1 import RekorV1Client
    from lacre.clients.rekor_v2 import RekorV2Client
    from lacre.clients.tsa import TimestampClient
    from lacre.models.trust_reader import TrustedRoot
    from lacre.sign import SigningContext, select_services
    from lacre.sign.config import load_json

    services = select_services(
        load_json(signing_config, "signing config"), rekor_version=rekor_version
    )
    tlogs = [
        (RekorV2Client if log.major_api_version == 2 else RekorV1Client)(log.url)
        for log in services.tlogs
    ]
    context = SigningContext(
        trusted_root=TrustedRoot.parse(trusted_root),
        tlogs=tlogs,
        ca=FulcioClient(services.ca_url) if services.ca_url else None,
        tsas=[TimestampClient(url) for url in services.tsa_urls],
    )
    return context, services.oidc_url


def _token(request: SignRequest, issuer: str | None) -> IdentityToken:
    from lacre.oidc.flows import obtain_token

    explicit = request.identity_token or os.environ.get(TOKEN_ENV)
    return obtain_token(
        explicit=explicit,
        audience=request.oidc_client_id,
        interactive=lambda: _login(request, issuer),
    )


def _login(request: SignRequest, issuer: str | None) -> str:
    import webbrowser

    from lacre.clients.oidc import HttpxOidc, LoopbackRedirect
    from lacre.oidc.flows import Client, Discovery

    if issuer is None:
        raise ConfigError("no OIDC issuer to log in at", expected="--oidc-issuer")
    http = HttpxOidc()
    client = Client(
        http=http, discovery=Discovery.fetch(http, issuer), client_id=request.oidc_client_id
    )
    if request.device:
        return client.device_login(
            lambda url, code: click.echo(f"Open {url} and enter the code {code}", err=True)
        )

    def open_browser(url: str) -> None:
        click.echo(f"Opening a browser to log in; if none opens, visit:\n{url}", err=True)
        webbrowser.open(url)

    return client.browser_login(open_browser, LoopbackRedirect())


def sign_request(options: dict[str, Any]) -> SignRequest:
    """The shared signing and trust options of a command, as a request."""
    return SignRequest(trust=pop_trust_choice(options), **options)


@click.command("sign-blob")
@click.argument("files", nargs=-1, required=True, type=_IN)
@click.option("--bundle", type=_OUT, help="Where to write the bundle (one FILE only).")
@trust_options
@signing_options
@reports_errors
def sign_blob(files: tuple[Path, ...], bundle: Path | None, **options: Any) -> None:
    """Sign each FILE; write FILE.sigstore.json (a Sigstore bundle v0.3)."""
    outputs = _outputs(files, bundle)
    check_writable(outputs)
    session = session_for(sign_request(options))
    for file, out in zip(files, outputs, strict=True):
        write_output(out, session.sign_blob(file.read_bytes()).to_bytes())
        click.echo(f"wrote {out}", err=True)


@click.command()
@click.argument("files", nargs=-1, required=True, type=_IN)
@click.option("--predicate", type=_IN, required=True, help="The predicate (a JSON object).")
@click.option(
    "--type",
    "type_",
    required=True,
    metavar="TYPE",
    help=PREDICATE_TYPE_HELP,
)
@click.option(
    "--bundle",
    type=_OUT,
    help="Where to write the bundle (default FILE.sigstore.json; needed with several FILEs).",
)
@trust_options
@signing_options
@reports_errors
def attest(
    files: tuple[Path, ...], predicate: Path, type_: str, bundle: Path | None, **options: Any
) -> None:
    """Attest FILEs: one in-toto statement naming them all, signed in a DSSE envelope."""
    from lacre.sign.statement import Subject, parse_predicate, predicate_type, statement

    uri = predicate_type(type_)
    body = parse_predicate(predicate.read_bytes())
    if bundle is None:
        bundle = Path(f"{files[0]}.sigstore.json") if len(files) == 1 else None
    if bundle is None:
        raise click.UsageError("with several FILEs, name the bundle with --bundle")
    check_writable([bundle])
    subjects = [Subject.of(file.name, file.read_bytes()) for file in files]
    session = session_for(sign_request(options))
    write_output(bundle, session.sign_statement(statement(subjects, uri, body)).to_bytes())
    click.echo(f"wrote {bundle}", err=True)


@click.command("generate-key-pair")
@click.option("--output-prefix", default="lacre", show_default=True, help="Write P.key and P.pub.")
@reports_errors
def generate_key_pair(output_prefix: str) -> None:
    """Write an ECDSA P-256 key pair: PREFIX.key (encrypted PKCS#8 PEM) and PREFIX.pub.

    The password comes from LACRE_PASSWORD, else is asked for twice; with an
    empty password the key is written unencrypted, with a warning.
    """
    from lacre.keys import generate_signer, save_signer

    key_file, pub_file = Path(f"{output_prefix}.key"), Path(f"{output_prefix}.pub")
    for path in (key_file, pub_file):
        if path.exists():
            raise ConfigError(f"{path} already exists", expected="a new file name")
    password = ask_password("Password for the private key", confirm=True)
    if not password:
        click.echo(f"warning: an empty password: {key_file} is not encrypted", err=True)
    signer = generate_signer()
    save_signer(signer, key_file, password.encode() or None)
    pub_file.write_bytes(signer.public_key.pem)
    click.echo(f"wrote {key_file} and {pub_file}", err=True)
