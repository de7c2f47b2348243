"""Shared material for the TUF tests: keys, targets, a repository and an in-memory fetcher."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping

from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient.fetcher import FetcherInterface

from lacre.keys import KeyAlgorithm, generate_signer
from lacre.keys.signer import SoftwareSigner
from lacre.trust.repository import OnlineSigners, TufRepository
from lacre.trust.targets import SIGNING_CONFIG, TRUSTED_ROOT

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
URL = "http://tuf.example.test/tuf"


def trusted_root_bytes(tag: str = "a") -> bytes:
    return json.dumps(
        {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [],
            "certificateAuthorities": [],
            "ctlogs": [],
            "timestampAuthorities": [],
            "x-tag": tag,
        }
    ).encode()


def signing_config_bytes() -> bytes:
    return json.dumps(
        {"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json", "caUrls": []}
    ).encode()


def online_signers(algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256_SHA256) -> OnlineSigners:
    return OnlineSigners(
        targets=generate_signer(algorithm),
        snapshot=generate_signer(algorithm),
        timestamp=generate_signer(algorithm),
    )


def make_repository(
    root_keys: int = 1, threshold: int = 1, algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256_SHA256
) -> tuple[TufRepository, list[SoftwareSigner]]:
    roots = [generate_signer(algorithm) for _ in range(root_keys)]
    repository = TufRepository.create(
        root_signers=roots,
        threshold=threshold,
        signers=online_signers(algorithm),
        targets={TRUSTED_ROOT: trusted_root_bytes(), SIGNING_CONFIG: signing_config_bytes()},
        now=NOW,
    )
    return repository, roots


class MemoryFetcher(FetcherInterface):
    """Serves a published layout from memory; 404 for anything else. Counts requests."""

    def __init__(self, files: Mapping[str, bytes], base: str = URL) -> None:
        self.files = dict(files)
        self.base = base.rstrip("/") + "/"
        self.requests: list[str] = []

    def _fetch(self, url: str) -> Iterator[bytes]:
        self.requests.append(url)
        if not url.startswith(self.base) or url[len(self.base) :] not in self.files:
            raise DownloadHTTPError(f"not found: {url}", 404)
        return iter([self.files[url[len(self.base) :]]])


class OfflineFetcher(FetcherInterface):
    """Refuses every download, like a machine without network."""

    def _fetch(self, url: str) -> Iterator[bytes]:
        raise ConnectionError(f"no network: {url}")
