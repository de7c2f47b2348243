"""``lacre trust``: the instance's TUF repository and the TUF client."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click

from lacre.cli.reporting import reports_errors
from lacre.keys import KeyAlgorithm
from lacre.trust.targets import SIGNING_CONFIG, TRUSTED_ROOT

_KEY_TYPES = {"ecdsa-p256": KeyAlgorithm.ECDSA_P256_SHA256, "ed25519": KeyAlgorithm.ED25519}
_DIR = click.Path(file_okay=False, path_type=Path)
_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lacre" / "tuf"


def _targets(trusted_root: Path | None, signing_config: Path | None) -> dict[str, bytes]:
    files = {TRUSTED_ROOT: trusted_root, SIGNING_CONFIG: signing_config}
    return {name: path.read_bytes() for name, path in files.items() if path is not None}


def _passphrase(path: Path | None) -> bytes | None:
    return path.read_bytes().rstrip(b"\r\n") if path is not None else None


def _report(material_warnings: tuple[str, ...]) -> None:
    for note in material_warnings:
        click.echo(f"warning: {note}", err=True)


repo_option = click.option("--repo", type=_DIR, required=True, help="Repository workspace.")
target_options = [
    click.option("--trusted-root", type=_FILE, help=f"The {TRUSTED_ROOT} to publish."),
    click.option("--signing-config", type=_FILE, help=f"The {SIGNING_CONFIG} to publish."),
]
cache_option = click.option(
    "--cache", type=_DIR, default=None, help="Client cache directory (default ~/.cache/lacre/tuf)."
)


@click.group()
def trust() -> None:
    """Run the instance's TUF repository and fetch trust from one."""


@trust.command()
@repo_option
@click.option("--offline-keys", type=_DIR, required=True, help="Where to write the root keys.")
@click.option("--root-keys", type=click.IntRange(1, 32), default=1, show_default=True)
@click.option("--threshold", type=click.IntRange(1, 32), default=1, show_default=True)
@click.option("--key-type", type=click.Choice(sorted(_KEY_TYPES)), default="ecdsa-p256")
@click.option("--passphrase-file", type=_FILE, help="Encrypt the root keys with this passphrase.")
@target_options[0]
@target_options[1]
@reports_errors
def init(
    repo: Path,
    offline_keys: Path,
    root_keys: int,
    threshold: int,
    key_type: str,
    passphrase_file: Path | None,
    trusted_root: Path | None,
    signing_config: Path | None,
) -> None:
    """Root ceremony: generate keys and publish version 1 of the repository."""
    from lacre.trust.workspace import Ceremony, Workspace

    ceremony = Ceremony(
        root_keys=root_keys,
        threshold=threshold,
        targets=_targets(trusted_root, signing_config),
        algorithm=_KEY_TYPES[key_type],
        passphrase=_passphrase(passphrase_file),
    )
    workspace = Workspace(repo)
    workspace.init(offline_keys, ceremony, _now())
    click.echo(f"published {workspace.published_dir}; pin {workspace.published_dir}/1.root.json")


@trust.command("sign-root")
@repo_option
@click.option(
    "--offline-keys", type=_DIR, required=True, help="The directory of the root keys (root-N.pem)."
)
@click.option("--passphrase-file", type=_FILE, help="The root keys' passphrase.")
@click.option(
    "--add-keys", type=click.IntRange(0, 32), default=0, help="Make this many new root keys."
)
@click.option("--threshold", type=click.IntRange(1, 32), help="The new root threshold.")
@reports_errors
def sign_root(
    repo: Path,
    offline_keys: Path,
    passphrase_file: Path | None,
    add_keys: int,
    threshold: int | None,
) -> None:
    """Publish the next root version, signed by the root keys in --offline-keys.

    The new root is renewed for a year, with --add-keys more root keys and, if given,
    another --threshold; it must be signed by both the old root's threshold and its own.
    """
    from lacre.trust.workspace import Workspace, load_root_signers, new_root_key_files

    passphrase = _passphrase(passphrase_file)
    signers = load_root_signers(offline_keys, lambda: passphrase)
    added = new_root_key_files(offline_keys, add_keys, _KEY_TYPES["ecdsa-p256"], passphrase)
    repository = Workspace(repo).rotate_root(
        [*signers, *added], _now(), add=[key.public_key for key in added], threshold=threshold
    )
    click.echo(f"published root version {repository.root.version}")


@trust.command()
@repo_option
@target_options[0]
@target_options[1]
@reports_errors
def publish(repo: Path, trusted_root: Path | None, signing_config: Path | None) -> None:
    """Publish a new trusted root and/or signing config."""
    from lacre.trust.workspace import Workspace

    changed = Workspace(repo).publish(_targets(trusted_root, signing_config), _now())
    click.echo("published" if changed else "unchanged: nothing to publish")


@trust.command()
@repo_option
@reports_errors
def refresh(repo: Path) -> None:
    """Re-sign timestamp, snapshot or targets metadata that is about to expire."""
    from lacre.trust.workspace import Workspace

    roles = Workspace(repo).refresh(_now())
    click.echo(f"re-signed {', '.join(roles)}" if roles else "nothing due")


@trust.command()
@repo_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@reports_errors
def export(repo: Path, out: Path) -> None:
    """Write the repository (root, metadata, targets) into one tar.gz for an air gap."""
    from lacre.trust.archive import export as export_archive
    from lacre.trust.workspace import Workspace

    export_archive(Workspace(repo).open().files(), out)
    click.echo(f"wrote {out}")


@trust.command(name="import")
@click.argument("archive", type=_FILE)
@click.option("--url", required=True, help="The repository URL the cache stands for.")
@click.option("--root", type=_FILE, help="Pinned root.json (else the archive's first root).")
@cache_option
@reports_errors
def import_command(archive: Path, url: str, root: Path | None, cache: Path | None) -> None:
    """Set up the client cache from an exported archive, without network."""
    from lacre.trust.archive import import_
    from lacre.trust.cache import ClientCache

    dest = ClientCache.for_url(cache or _default_cache(), url)
    material = import_(archive, dest, root=root.read_bytes() if root else None)
    _report(material.warnings)
    click.echo(f"imported root v{material.root_version} into {dest.path}")


@trust.command()
@click.argument("url")
@click.option("--root", type=_FILE, required=True, help="The pinned root.json.")
@cache_option
@reports_errors
def bootstrap(url: str, root: Path, cache: Path | None) -> None:
    """Pin ROOT for the repository at URL and fetch the trust material."""
    from lacre.trust.client import TrustClient

    material = TrustClient(url, cache or _default_cache()).bootstrap(root.read_bytes())
    click.echo(f"trusted {url} at root v{material.root_version}")


@trust.command()
@click.argument("url")
@click.option("--out-dir", type=_DIR, required=True, help="Where to write the targets.")
@click.option("--offline", is_flag=True, help="Use the cache only (no network).")
@cache_option
@reports_errors
def fetch(url: str, out_dir: Path, offline: bool, cache: Path | None) -> None:
    """Update from URL and write trusted_root.json and signing_config.v0.2.json."""
    from lacre.trust.client import TrustClient

    material = TrustClient(url, cache or _default_cache()).load(offline=offline)
    _report(material.warnings)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / TRUSTED_ROOT).write_bytes(material.trusted_root)
    if material.signing_config is not None:
        (out_dir / SIGNING_CONFIG).write_bytes(material.signing_config)
    click.echo(f"wrote {out_dir}")
