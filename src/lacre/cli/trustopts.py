"""Options choosing the Sigstore instance to trust, shared by signing and verification.

By default the public-good instance: its trusted root and signing config are
updated through its TUF repository (bootstrapped from the TUF root shipped with
lacre, each network operation limited to a few seconds); when that fails, the
last verified copy in the cache is used, else the copy shipped with lacre, with
a warning. ``--offline`` (or ``LACRE_OFFLINE=1``) skips the update and uses
the cache or the shipped copy. ``--instance URL`` reads them through TUF at ``URL/tuf``
(pinned beforehand with ``lacre trust bootstrap URL/tuf --root root.json``;
the cache is used, with a warning, when the repository cannot be reached, and
at once with ``--offline``);
``--trust-config`` names a ClientTrustConfig file; ``--trusted-root`` and
``--signing-config`` name the two documents separately and override the others.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from lacre.cli.stacking import with_options
from lacre.errors import ConfigError, NetworkError
from lacre.record import record

if TYPE_CHECKING:
    from lacre.trust.client import TrustMaterial

F = TypeVar("F", bound=Callable[..., Any])
OFFLINE_ENVIRONMENT = "LACRE_OFFLINE"
TUF_TIMEOUT_S = 4
"""Longest wait of any one network operation of a TUF update."""
_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


@record(kw_only=True)
class TrustChoice:
    """Where the trusted root and the signing config come from."""

    instance: str | None = None
    trust_config: Path | None = None
    trusted_root: Path | None = None
    signing_config: Path | None = None
    cache: Path | None = None
    offline: bool = False

    def __post_init__(self) -> None:
        """``--instance`` and ``--trust-config`` exclude each other."""
        if self.instance is not None and self.trust_config is not None:
            raise click.UsageError("use either --instance or --trust-config, not both")


@record(kw_only=True)
class TrustDocuments:
    """The trusted root and (if any) the signing config, as bytes."""

    trusted_root: bytes
    signing_config: bytes | None
    warnings: tuple[str, ...] = ()


def trust_options(command: F) -> F:
    """Add ``--instance``, ``--trust-config``, ``--trusted-root`` and ``--signing-config``."""
    options = [
        click.option("--instance", metavar="URL", help="A lacre instance (TUF at URL/tuf)."),
        click.option("--trust-config", type=_FILE, help="A ClientTrustConfig JSON file."),
        click.option("--trusted-root", type=_FILE, help="A trusted_root.json file."),
        click.option("--signing-config", type=_FILE, help="A signing_config.json file."),
        click.option(
            "--offline",
            is_flag=True,
            envvar=OFFLINE_ENVIRONMENT,
            help="No TUF update: trust from the cache (or the copy shipped with lacre).",
        ),
        click.option(
            "--tuf-cache",
            type=click.Path(file_okay=False, path_type=Path),
            help="TUF client cache for --instance (default ~/.cache/lacre/tuf).",
        ),
    ]
    return with_options(command, options)


def pop_trust_choice(options: dict[str, Any]) -> TrustChoice:
    """Take the options :func:`trust_options` added out of a command's keyword arguments."""
    return TrustChoice(
        instance=options.pop("instance"),
        trust_config=options.pop("trust_config"),
        trusted_root=options.pop("trusted_root"),
        signing_config=options.pop("signing_config"),
        cache=options.pop("tuf_cache"),
        offline=options.pop("offline"),
    )


def load_trust(choice: TrustChoice) -> TrustDocuments:
    """Read the trusted root and signing config the choice names.

    The instance (or the public-good TUF repository) is read only for a
    document no file overrides.
    """
    if choice.trusted_root is not None and choice.signing_config is not None:
        return TrustDocuments(
            trusted_root=choice.trusted_root.read_bytes(),
            signing_config=choice.signing_config.read_bytes(),
        )
    base = _base_documents(choice)
    root = choice.trusted_root.read_bytes() if choice.trusted_root else base.trusted_root
    config = choice.signing_config.read_bytes() if choice.signing_config else base.signing_config
    return TrustDocuments(trusted_root=root, signing_config=config, warnings=base.warnings)


def load_trusted_root(choice: TrustChoice) -> tuple[bytes, tuple[str, ...]]:
    """The trusted root the choice names, and warnings to show; no signing config is read."""
    if choice.trusted_root is not None:
        return choice.trusted_root.read_bytes(), ()
    if choice.trust_config is not None:  # a trust config for verification needs no signing config
        from lacre.sign.config import load_json, trust_config_root

        root = trust_config_root(load_json(choice.trust_config.read_bytes(), "trust config"))
        return json.dumps(root).encode(), ()
    base = _base_documents(choice)
    return base.trusted_root, base.warnings


def _base_documents(choice: TrustChoice) -> TrustDocuments:
    if choice.trust_config is not None:
        return _from_trust_config(choice.trust_config.read_bytes())
    if choice.instance is not None:
        cache = choice.cache or default_tuf_cache()
        return _from_instance(choice.instance, cache, offline=choice.offline)
    return public_good_documents(choice.cache or default_tuf_cache(), offline=choice.offline)


def public_good_documents(cache: Path, *, offline: bool) -> TrustDocuments:
    """The public-good trust material: updated through TUF, else cached, else shipped.

    python-tuf is imported only when an update is attempted or a cache is read:
    offline with nothing cached, the shipped copy is used straight away.
    """
    from lacre.errors import Error
    from lacre.trust.cache import ClientCache
    from lacre.trust.public_good import PUBLIC_GOOD_TUF_URL, public_good_tuf_root

    if offline and not ClientCache.for_url(cache, PUBLIC_GOOD_TUF_URL).is_bootstrapped():
        return _shipped_documents(warnings=())
    from lacre.trust.client import TrustClient

    client = TrustClient(PUBLIC_GOOD_TUF_URL, cache, fetcher=None if offline else _fetcher())
    if offline:
        return _public_good_fallback(client, None)
    try:
        if client.cache.is_bootstrapped():
            material = client.update()
        else:
            material = client.bootstrap(public_good_tuf_root())
    except Error as exc:
        return _public_good_fallback(client, str(exc))
    return _documents(material, ())


def _public_good_fallback(client: Any, problem: str | None) -> TrustDocuments:
    """The cache, else the shipped copy; ``problem`` (why, unless offline) is warned about."""
    from lacre.errors import Error

    try:
        material = client.cached()
    except Error:
        warnings = (f"{problem}; using the trust material shipped with lacre",) if problem else ()
        return _shipped_documents(warnings=warnings)
    reason = (f"{problem}; using the cached trust material",) if problem else ()
    return _documents(material, reason)


def _shipped_documents(*, warnings: tuple[str, ...]) -> TrustDocuments:
    """The public-good trusted root and signing config shipped with lacre."""
    from lacre.sign.defaults import public_good_signing_config_bytes
    from lacre.verify.roots import public_good_trusted_root_bytes

    return TrustDocuments(
        trusted_root=public_good_trusted_root_bytes(),
        signing_config=public_good_signing_config_bytes(),
        warnings=warnings,
    )


def _fetcher() -> Any:
    """python-tuf's HTTP fetcher with a short timeout on every network operation."""
    from tuf.ngclient.urllib3_fetcher import Urllib3Fetcher

    return Urllib3Fetcher(socket_timeout=TUF_TIMEOUT_S)


def _from_trust_config(data: bytes) -> TrustDocuments:
    from lacre.sign.config import load_json, split_trust_config

    root, config = split_trust_config(load_json(data, "trust config"))
    return TrustDocuments(
        trusted_root=json.dumps(root).encode(), signing_config=json.dumps(config).encode()
    )


def _from_instance(url: str, cache: Path, *, offline: bool) -> TrustDocuments:
    """The instance's trust material: updated through its TUF repository unless ``offline``.

    The verified cache is used, with the reason, when the repository cannot be
    reached; it is used at once, with no network, when ``offline``.
    """
    from lacre.trust.client import TrustClient

    client = TrustClient(tuf_url(url), cache, fetcher=None if offline else _fetcher())
    try:
        return _documents(client.load(offline=offline), ())
    except NetworkError as exc:
        reason = f"{exc.message}; using the cached trust material"
        return _documents(client.cached(), (reason,))


def _documents(material: TrustMaterial, reasons: tuple[str, ...]) -> TrustDocuments:
    """Trust material with its own notes as warnings, after why it is used (if cached)."""
    return TrustDocuments(
        trusted_root=material.trusted_root,
        signing_config=material.signing_config,
        warnings=(*reasons, *material.warnings),
    )


def tuf_url(instance: str) -> str:
    """The TUF repository of the instance at ``instance``: ``<instance>/tuf``."""
    if not instance.startswith(("http://", "https://")):
        raise ConfigError("--instance must be an http(s) URL", found=repr(instance))
    return instance.rstrip("/") + "/tuf"


def default_tuf_cache() -> Path:
    """The TUF client cache: ``$XDG_CACHE_HOME/lacre/tuf`` (``~/.cache/lacre/tuf``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lacre" / "tuf"


def signing_options(command: F) -> F:
    """Add the signing options: key, identity token, device login, Rekor version."""
    options = [
        click.option("--key", metavar="URI", help="Sign with a managed key (file: or pkcs11:)."),
        click.option(
            "--identity-token",
            metavar="TOKEN",
            help="OIDC identity token (else SIGSTORE_ID_TOKEN, CI credentials, a login).",
        ),
        click.option("--device", is_flag=True, help="Log in with the device code flow."),
        click.option("--oidc-issuer", metavar="URL", help="Log in at this issuer instead."),
        click.option("--oidc-client-id", default="sigstore", show_default=True),
        click.option(
            "--rekor-version",
            type=click.IntRange(1, 2),
            help="Use a Rekor v1 or v2 log (default: the newest the signing config offers).",
        ),
    ]
    return with_options(command, options)
