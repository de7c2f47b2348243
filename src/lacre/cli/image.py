"""Container images: ``lacre image sign|verify|attest|verify-attestation|download|tree IMAGE``.

``sign``, ``verify``, ``download`` and ``tree`` are also registered at the top
level (``lacre sign IMAGE``); ``attest`` and ``verify-attestation`` are
available at the top level through :func:`dispatching`, which sends an
existing file to the blob command and anything else to the image command.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from lacre.cli.reporting import reports_errors
from lacre.cli.stacking import with_options
from lacre.cli.trustopts import signing_options, trust_options
from lacre.cli.verifyopts import (
    PREDICATE_TYPE_HELP,
    identity_options,
    names_digest,
    policy_from_options,
    verifier_from_options,
)
from lacre.errors import ConfigError

if TYPE_CHECKING:
    from lacre.containers import ImageVerification, Storage
    from lacre.containers.inspect import Kind
    from lacre.oci.reference import ImageReference
    from lacre.oci.registry import RegistryClient

F = TypeVar("F", bound=Callable[..., Any])
_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)
_REGISTRY_KEYS = ("registry_ca", "insecure_registry", "docker_config")
_STORAGE = click.Choice(["referrers", "legacy", "both"])
_storage_option = click.option(
    "--storage",
    type=_STORAGE,
    default="both",
    show_default=True,
    help="OCI 1.1 referrer bundle, cosign's legacy tag layout (needs Rekor v1), or both.",
)


def registry_options(command: F) -> F:
    """Add ``--registry-ca``, ``--insecure-registry`` and ``--docker-config``."""
    options = [
        click.option("--registry-ca", type=_FILE, help="CA bundle (PEM) for registry TLS."),
        click.option(
            "--insecure-registry",
            is_flag=True,
            help="Plain HTTP to the registry (loopback registries use it anyway).",
        ),
        click.option(
            "--docker-config",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Registry credentials (default: $DOCKER_CONFIG or ~/.docker, config.json).",
        ),
    ]
    return with_options(command, options)


def _client(options: dict[str, Any], *, cache: Path | None = None) -> RegistryClient:
    from lacre.containers import CachingRegistryClient, DigestCache
    from lacre.oci.credentials import DockerConfig, docker_config_path
    from lacre.oci.http import RegistryOptions
    from lacre.oci.registry import RegistryClient

    ca, insecure, config = (options.pop(name) for name in _REGISTRY_KEYS)
    settings = RegistryOptions(ca_bundle=ca, insecure=insecure)
    docker = DockerConfig.load(config or docker_config_path(os.environ, Path.home()))
    if cache is not None:
        return CachingRegistryClient(
            settings, cache=DigestCache(cache), credentials=docker.credentials_for
        )
    return RegistryClient(settings, credentials=docker.credentials_for)


def _image(text: str) -> ImageReference:
    from lacre.oci.reference import ImageReference

    return ImageReference.parse(text)


def _notice(message: str) -> None:
    click.echo(f"notice: {message}", err=True)


def _signer(options: dict[str, Any], storage: str) -> Any:
    from lacre.cli.sign import session_for, sign_request
    from lacre.containers import ImageSigner

    if storage != "referrers":
        if options.get("rekor_version") == 2:
            raise click.UsageError(
                "--storage legacy/both needs a Rekor v1 log, not --rekor-version 2"
            )
        options["rekor_version"] = 1
    client = _client(options)
    session = session_for(sign_request(options))
    return ImageSigner(client, session, storage=cast("Storage", storage), notify=_notice)


def _annotations(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise click.UsageError(f"--annotation wants KEY=VALUE, not {pair!r}")
        out[key] = value
    return out


def _report(done: list[Any], what: str) -> None:
    for item in done:
        places = [f"referrer {item.referrer}" if item.referrer else "", str(item.legacy_tag or "")]
        click.echo(f"{what} {item.image} -> {', '.join(p for p in places if p)}", err=True)


@click.command("sign")
@click.argument("image")
@_storage_option
@click.option("--recursive", is_flag=True, help="Also sign every platform image of an index.")
@click.option(
    "-a",
    "--annotation",
    "annotations",
    multiple=True,
    metavar="KEY=VALUE",
    help="KEY=VALUE for the optional part of the legacy signature payload (repeatable).",
)
@registry_options
@trust_options
@signing_options
@reports_errors
def sign_image(
    image: str, storage: str, recursive: bool, annotations: tuple[str, ...], **options: Any
) -> None:
    """Sign the image IMAGE (a tag is resolved; its digest is what is signed)."""
    reference, notes = _image(image), _annotations(annotations)
    signer = _signer(options, storage)
    done = signer.sign(reference, recursive=recursive, annotations=notes)
    _report(done, "signed")


@click.command("attest")
@click.argument("image")
@click.option("--predicate", type=_FILE, required=True, help="The predicate (a JSON object).")
@click.option("--type", "type_", required=True, metavar="TYPE", help=PREDICATE_TYPE_HELP)
@_storage_option
@click.option("--recursive", is_flag=True, help="Also attest every platform image of an index.")
@registry_options
@trust_options
@signing_options
@reports_errors
def attest_image(
    image: str, predicate: Path, type_: str, storage: str, recursive: bool, **options: Any
) -> None:
    """Attest the image IMAGE: an in-toto statement with its digest as subject."""
    from lacre.sign.statement import parse_predicate, predicate_type

    uri = predicate_type(type_)
    body = parse_predicate(predicate.read_bytes())
    reference = _image(image)
    signer = _signer(options, storage)
    _report(signer.attest(reference, uri, body, recursive=recursive), "attested")


def _verify_common(options: dict[str, Any], cache: Path | None) -> tuple[Any, Any]:
    from lacre.containers import ImageVerifier

    policy = policy_from_options(options)
    verifier = verifier_from_options(options)
    client = _client(options, cache=cache)
    return ImageVerifier(client, verifier, notify=_notice), policy


_CACHE = click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep manifests and blobs fetched by digest in this directory.",
)


@click.command("verify")
@click.argument("image")
@click.option("--recursive", is_flag=True, help="Also verify every platform image of an index.")
@_CACHE
@identity_options
@registry_options
@trust_options
@reports_errors
def verify_image(image: str, recursive: bool, cache: Path | None, **options: Any) -> None:
    """Verify that IMAGE carries a signature satisfying the policy."""
    verifier, policy = _verify_common(options, cache)
    for done in verifier.verify(_image(image), policy, recursive=recursive):
        click.echo(f"verified {done.image} ({done.source})")


@click.command("verify-attestation")
@click.argument("image")
@click.option("--type", "type_", required=True, metavar="TYPE", help=PREDICATE_TYPE_HELP)
@click.option("--recursive", is_flag=True, help="Also verify every platform image of an index.")
@_CACHE
@identity_options
@registry_options
@trust_options
@reports_errors
def verify_attestation_image(
    image: str, type_: str, recursive: bool, cache: Path | None, **options: Any
) -> None:
    """Verify an attestation of TYPE for IMAGE; print the verified statement(s)."""
    from lacre.sign.statement import predicate_type

    verifier, policy = _verify_common(options, cache)
    found = verifier.verify_attestation(
        _image(image), policy, predicate_type(type_), recursive=recursive
    )
    for done in found:
        click.echo(f"verified {done.image} ({done.source})", err=True)
        click.echo(_statement_json(done))


def _statement_json(done: ImageVerification) -> str:
    statement = done.statement
    if statement is None:
        return "{}"
    subjects = [{"name": item.name, "digest": dict(item.digest)} for item in statement.subjects]
    document = {
        "_type": statement.type,
        "subject": subjects,
        "predicateType": statement.predicate_type,
        "predicate": dict(statement.predicate),
    }
    return json.dumps(document, separators=(",", ":"))


@click.command("download")
@click.argument("what", type=click.Choice(["signature", "attestation", "sbom"]))
@click.argument("image")
@registry_options
@reports_errors
def download_command(what: str, image: str, **options: Any) -> None:
    """Print IMAGE's signatures, attestations (one JSON per line) or its SBOM (only it)."""
    from lacre.containers import download, sbom

    client = _client(options)
    if what == "sbom":
        click.echo(sbom(client, _image(image), notify=_notice).decode(), nl=False)
        return
    kind: Kind = "signature" if what == "signature" else "attestation"
    documents = download(client, _image(image), kind, notify=_notice)
    if not documents:
        raise ConfigError(f"no {what} attached to {image}", found="none")
    for document in documents:
        click.echo(document.decode())


@click.command("tree")
@click.argument("image")
@registry_options
@reports_errors
def tree_command(image: str, **options: Any) -> None:
    """List everything attached to IMAGE: referrers and legacy .sig/.att/.sbom layers."""
    from lacre.containers import tree

    pinned, items = tree(_client(options), _image(image), notify=_notice)
    click.echo(str(pinned))
    if not items:
        click.echo("└── nothing attached")
    for number, item in enumerate(items):
        branch = "└──" if number == len(items) - 1 else "├──"
        extra = f" [{item.predicate_type}]" if item.predicate_type else ""
        click.echo(f"{branch} {item.storage}: {item.digest} {item.media_type}{extra}")


@click.group("image")
def image_group() -> None:
    """Sign, attest, verify and inspect container images in OCI registries."""


for _command in (
    sign_image,
    verify_image,
    attest_image,
    verify_attestation_image,
    download_command,
    tree_command,
):
    image_group.add_command(_command)


class Dispatching(click.Command):
    """A top-level command shared by files and images.

    If the arguments parse as the image command's and its IMAGE names an
    existing file, or if they parse only as the file command's, the file
    command runs (a ``sha256:<hex>`` digest in place of IMAGE counts as a
    file); otherwise the image command (whose errors are then shown).
    """

    def __init__(self, files: click.Command, images: click.Command) -> None:
        """Dispatch between ``files`` and ``images`` (which share a name)."""
        name = images.name or "command"
        super().__init__(
            name,
            help=f"{_doc(images)}\n\nWith existing FILEs instead: {_doc(files)}\n\n"
            f"Options: `lacre image {name} --help` for images, "
            f"`lacre {name} FILE --help` for files.",
            short_help=f"{images.get_short_help_str(50)} (or FILEs)",
        )
        self.files = files
        self.images = images

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Parse ``args`` with the command they are meant for."""
        if any(arg in ("--help", "-h") for arg in args):
            target = self._help_target(args)
        else:
            target = self.files if self._for_files(info_name, args, parent) else self.images
        if target is None:
            return super().make_context(info_name, args, parent=parent, **extra)
        return target.make_context(info_name, args, parent=parent, **extra)

    def _help_target(self, args: list[str]) -> click.Command | None:
        words = [arg for arg in args if not arg.startswith("-")]
        if any(Path(word).is_file() for word in words):
            return self.files
        return self.images if words else None

    def _for_files(
        self, info_name: str | None, args: list[str], parent: click.Context | None
    ) -> bool:
        probe = _parses(self.images, info_name, args, parent)
        if probe is None:
            return _parses(self.files, info_name, args, parent) is not None
        value = probe.params.get("image")
        if not isinstance(value, str):
            return False
        if Path(value).is_file() or names_digest(value):
            return True
        if not _names_registry(value):
            raise click.UsageError(
                f"no file named {value!r}; an image here is named with its registry "
                f"(docker.io/{value if '/' in value else 'library/' + value}, or use "
                f"`lacre image {self.name}`)"
            )
        return False


def _names_registry(reference: str) -> bool:
    """Whether an image reference starts with a registry host, as ``ghcr.io/...`` does.

    A bare ``name`` or ``org/name`` would mean Docker Hub; here, where FILEs are
    accepted too, such a word is more often a mistyped file name.
    """
    first, slash, _ = reference.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def _parses(
    command: click.Command, info_name: str | None, args: list[str], parent: click.Context | None
) -> click.Context | None:
    """The context ``command`` makes of ``args``, or None if they are not its usage."""
    try:
        return command.make_context(info_name, list(args), parent=parent)
    except click.UsageError:
        return None


def dispatching(files: click.Command, images: click.Command) -> click.Command:
    """One top-level command for ``files`` and ``images`` (e.g. ``attest``)."""
    return Dispatching(files, images)


def _doc(command: click.Command) -> str:
    """``command``'s help with its docstring indentation removed, ready to be embedded."""
    return inspect.cleandoc(command.help or "")
