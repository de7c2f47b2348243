"""The TUF client: trust material for a Sigstore instance, from its TUF repository.

Bootstrap once from a ``root.json`` obtained out of band; afterwards
:meth:`TrustClient.update` follows root rotations and fetches the current
``trusted_root.json`` and ``signing_config.v0.2.json`` through python-tuf's
ngclient, refusing rollback, freeze and tampering. :meth:`TrustClient.cached`
works offline from the verified cache, with a warning.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from tuf.api import exceptions as tuf_errors
from tuf.ngclient.config import UpdaterConfig
from tuf.ngclient.fetcher import FetcherInterface
from tuf.ngclient.updater import Updater

import lacre
from lacre.errors import ConfigError, NetworkError, StorageError, VerificationError
from lacre.models.signing_config import client_trust_config
from lacre.trust.cache import ClientCache, normalized_url
from lacre.trust.chain import verify_chain, verify_target
from lacre.trust.targets import SIGNING_CONFIG, TRUSTED_ROOT

_REFUSALS: list[tuple[type[Exception], str]] = [
    (tuf_errors.BadVersionNumberError, "rollback attack refused (older metadata version)"),
    (tuf_errors.ExpiredMetadataError, "freeze attack refused (metadata expired)"),
    (tuf_errors.UnsignedMetadataError, "metadata signature check failed (tampered?)"),
    (tuf_errors.LengthOrHashMismatchError, "length or hash mismatch (tampered?)"),
]


@dataclass(frozen=True, kw_only=True)
class TrustMaterial:
    """What a Sigstore client needs from the repository."""

    trusted_root: bytes
    signing_config: bytes | None
    root_version: int
    warnings: tuple[str, ...] = ()

    def client_trust_config(self) -> dict[str, Any]:
        """A ClientTrustConfig v0.1 combining the trusted root and the signing config."""
        if self.signing_config is None:
            raise ConfigError(f"the repository publishes no {SIGNING_CONFIG}")
        return client_trust_config(json.loads(self.trusted_root), json.loads(self.signing_config))


class TrustClient:
    """A client of one TUF repository, with its cache under ``cache_dir``."""

    def __init__(
        self, url: str, cache_dir: Path, *, fetcher: FetcherInterface | None = None
    ) -> None:
        """A client of the repository at ``url``; ``fetcher`` replaces HTTP (tests, mirrors)."""
        self.url = normalized_url(url)
        self.cache = ClientCache.for_url(cache_dir, self.url)
        self._fetcher = fetcher

    def bootstrap(self, root: bytes) -> TrustMaterial:
        """Trust ``root`` (a self-signed TUF ``root.json``) for this URL, then update.

        A bootstrap that fails (a wrong root, an unreachable repository) leaves the
        cache as it was, so a working pin is never lost to a mistake.
        """
        kept = self.cache.path.with_name(f"{self.cache.path.name}.before-bootstrap")
        shutil.rmtree(kept, ignore_errors=True)
        if self.cache.path.exists():
            self.cache.path.rename(kept)
        try:
            material = self._run(root)
        except BaseException:
            self.cache.reset()
            if kept.exists():
                kept.rename(self.cache.path)
            raise
        shutil.rmtree(kept, ignore_errors=True)
        return material

    def update(self) -> TrustMaterial:
        """Update from the repository, following root rotations; refuse any attack."""
        if not self.cache.is_bootstrapped():
            raise ConfigError(
                f"no trusted root for {self.url}", expected="a bootstrap with a pinned root.json"
            )
        return self._run(None)

    def cached(self, now: dt.datetime | None = None) -> TrustMaterial:
        """The cached trust material, verified without network (offline mode)."""
        now = now or dt.datetime.now(dt.UTC)
        roots = self.cache.roots()
        if not roots:
            raise ConfigError(f"nothing cached for {self.url}", expected="a bootstrap first")
        chain = verify_chain(roots[0], self.cache.chain(), now)
        targets = chain.targets.signed
        notes = [f"offline: trust material for {self.url} from the cache, not updated"]
        notes += [f"offline: cached {role} metadata has expired" for role in chain.expired]
        return TrustMaterial(
            trusted_root=verify_target(targets, TRUSTED_ROOT, self.cache.target(TRUSTED_ROOT)),
            signing_config=(
                verify_target(targets, SIGNING_CONFIG, self.cache.target(SIGNING_CONFIG))
                if SIGNING_CONFIG in targets.targets
                else None
            ),
            root_version=chain.root.version,
            warnings=tuple(notes),
        )

    def load(self, *, offline: bool = False) -> TrustMaterial:
        """:meth:`cached` when ``offline``, else :meth:`update`."""
        return self.cached() if offline else self.update()

    def _run(self, bootstrap: bytes | None) -> TrustMaterial:
        try:
            updater = self._updater(bootstrap)
            updater.refresh()
            trusted_root = self._target(updater, TRUSTED_ROOT, required=True)
            assert trusted_root is not None
            return TrustMaterial(
                trusted_root=trusted_root,
                signing_config=self._target(updater, SIGNING_CONFIG, required=False),
                root_version=updater._trusted_set.root.version,
            )
        except tuf_errors.DownloadError as exc:
            raise NetworkError(f"cannot fetch TUF data from {self.url}: {_reason(exc)}") from exc
        except tuf_errors.RepositoryError as exc:
            raise VerificationError(f"TUF repository {self.url}: {_refusal(exc)}") from exc
        except OSError as exc:
            raise StorageError(f"cannot use the trust cache {self.cache.path}: {exc}") from exc

    def _updater(self, bootstrap: bytes | None) -> Updater:
        self.cache.metadata_dir.mkdir(parents=True, exist_ok=True)
        self.cache.targets_dir.mkdir(parents=True, exist_ok=True)
        return Updater(
            metadata_dir=str(self.cache.metadata_dir),
            metadata_base_url=self.url,
            target_dir=str(self.cache.targets_dir),
            target_base_url=urljoin(f"{self.url}/", "targets/"),
            fetcher=self._fetcher,
            config=UpdaterConfig(app_user_agent=f"lacre/{lacre.__version__}"),
            bootstrap=bootstrap,
        )

    def _target(self, updater: Updater, name: str, *, required: bool) -> bytes | None:
        info = updater.get_targetinfo(name)
        if info is None:
            if required:
                raise tuf_errors.RepositoryError(f"the repository publishes no {name}")
            return None
        path = updater.find_cached_target(info) or updater.download_target(info)
        return Path(path).read_bytes()


def _refusal(exc: Exception) -> str:
    for kind, reason in _REFUSALS:
        if isinstance(exc, kind):
            return f"{reason}: {exc}"
    return str(exc) or type(exc).__name__


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__
    detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
    return f"{exc}{detail}"
