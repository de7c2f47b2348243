from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from tuf.ngclient.updater import Updater

from lacre.errors import ConfigError, NetworkError, VerificationError
from lacre.keys import generate_signer
from lacre.trust.client import TrustClient
from lacre.trust.metadata import Expiries
from lacre.trust.repository import TufRepository
from lacre.trust.targets import SIGNING_CONFIG, TRUSTED_ROOT
from lacre.trust.tufapi import Metadata
from tests.unit.trust.helpers import (
    NOW,
    URL,
    MemoryFetcher,
    OfflineFetcher,
    make_repository,
    signing_config_bytes,
    trusted_root_bytes,
)


def _client(tmp_path: Path, fetcher: object) -> TrustClient:
    return TrustClient(URL, tmp_path, fetcher=fetcher)  # type: ignore[arg-type]


def test_python_tuf_ngclient_reads_our_repository(tmp_path: Path) -> None:
    repository, _ = make_repository()
    files = repository.files()
    updater = Updater(
        metadata_dir=str(tmp_path / "m"),
        metadata_base_url=URL,
        target_dir=str(tmp_path / "t"),
        target_base_url=f"{URL}/targets/",
        fetcher=MemoryFetcher(files),
        bootstrap=files["1.root.json"],
    )
    updater.refresh()
    info = updater.get_targetinfo(TRUSTED_ROOT)
    assert info is not None
    assert Path(updater.download_target(info)).read_bytes() == trusted_root_bytes()


def test_bootstrap_then_update_follows_rotation_and_new_targets(tmp_path: Path) -> None:
    repository, roots = make_repository()
    fetcher = MemoryFetcher(repository.files())
    material = _client(tmp_path, fetcher).bootstrap(repository.roots[0].raw)
    assert material.trusted_root == trusted_root_bytes()
    assert material.signing_config == signing_config_bytes()
    assert material.root_version == 1
    newcomer = generate_signer()
    repository.rotate_root(
        [*roots, newcomer], now=NOW, add=[newcomer.public_key], remove=[roots[0].public_key]
    )
    repository.publish({TRUSTED_ROOT: trusted_root_bytes("new")}, NOW)
    fetcher.files = repository.files()
    material = _client(tmp_path, fetcher).update()
    assert material.root_version == 2
    assert json.loads(material.trusted_root)["x-tag"] == "new"
    assert material.client_trust_config()["mediaType"].startswith(
        "application/vnd.dev.sigstore.clienttrustconfig"
    )


def test_update_without_bootstrap_is_a_config_error(tmp_path: Path) -> None:
    repository, _ = make_repository()
    with pytest.raises(ConfigError, match="no trusted root"):
        _client(tmp_path, MemoryFetcher(repository.files())).update()


def test_bootstrap_refuses_a_root_not_signed_by_itself(tmp_path: Path) -> None:
    repository, _ = make_repository()
    other, _ = make_repository()
    raw = json.loads(repository.roots[0].raw)
    raw["signatures"] = json.loads(other.roots[0].raw)["signatures"]
    with pytest.raises(VerificationError, match="signature"):
        _client(tmp_path, MemoryFetcher(repository.files())).bootstrap(json.dumps(raw).encode())


def test_a_failed_bootstrap_keeps_the_cache_it_found(tmp_path: Path) -> None:
    repository, _ = make_repository()
    fetcher = MemoryFetcher(repository.files())
    _client(tmp_path, fetcher).bootstrap(repository.roots[0].raw)
    other, _ = make_repository()
    with pytest.raises(VerificationError):
        _client(tmp_path, fetcher).bootstrap(other.roots[0].raw)  # not this repository's root
    with pytest.raises(VerificationError):
        _client(tmp_path, fetcher).bootstrap(b"not json")
    assert _client(tmp_path, fetcher).cached().trusted_root == trusted_root_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        _client(tmp_path, fetcher).cache.path.name
    ]


def test_rollback_is_refused(tmp_path: Path) -> None:
    repository, _ = make_repository()
    old_files = repository.files()
    repository.publish({TRUSTED_ROOT: trusted_root_bytes("b")}, NOW)
    fetcher = MemoryFetcher(repository.files())
    _client(tmp_path, fetcher).bootstrap(repository.roots[0].raw)
    fetcher.files = old_files
    with pytest.raises(VerificationError, match="rollback"):
        _client(tmp_path, fetcher).update()


def test_freeze_is_refused(tmp_path: Path) -> None:
    short = Expiries(timestamp=dt.timedelta(seconds=1))
    roots = [generate_signer()]
    from tests.unit.trust.helpers import online_signers

    stale = TufRepository.create(
        root_signers=roots,
        threshold=1,
        signers=online_signers(),
        targets={TRUSTED_ROOT: trusted_root_bytes()},
        now=NOW - dt.timedelta(days=2),
        expiries=short,
    )
    with pytest.raises(VerificationError, match="freeze"):
        _client(tmp_path, MemoryFetcher(stale.files())).bootstrap(stale.roots[0].raw)


@pytest.mark.parametrize("victim", ["timestamp.json", "1.snapshot.json", "1.targets.json"])
def test_tampered_metadata_is_refused(tmp_path: Path, victim: str) -> None:
    repository, _ = make_repository()
    files = repository.files()
    document = json.loads(files[victim])
    document["signed"]["expires"] = "2099-01-01T00:00:00Z"
    files[victim] = json.dumps(document).encode()
    with pytest.raises(VerificationError, match="tampered"):
        _client(tmp_path, MemoryFetcher(files)).bootstrap(repository.roots[0].raw)


def test_tampered_target_is_refused(tmp_path: Path) -> None:
    repository, _ = make_repository()
    files = repository.files()
    path = next(name for name in files if name.endswith(TRUSTED_ROOT))
    files[path] = files[path].replace(b'"a"', b'"b"')
    with pytest.raises(VerificationError, match="hash"):
        _client(tmp_path, MemoryFetcher(files)).bootstrap(repository.roots[0].raw)


def test_unreachable_repository_is_a_network_error(tmp_path: Path) -> None:
    repository, _ = make_repository()
    with pytest.raises(NetworkError, match="cannot fetch"):
        _client(tmp_path, OfflineFetcher()).bootstrap(repository.roots[0].raw)


def test_offline_mode_uses_the_verified_cache_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    repository, _ = make_repository()
    _client(tmp_path, MemoryFetcher(repository.files())).bootstrap(repository.roots[0].raw)
    client = _client(tmp_path, OfflineFetcher())
    with caplog.at_level(logging.WARNING):
        material = client.load(offline=True)
    assert material.trusted_root == trusted_root_bytes()
    assert any("offline" in note for note in material.warnings)
    assert caplog.text == ""  # returned for the caller to show, not logged as well
    later = client.cached(NOW + dt.timedelta(days=3))
    assert "offline: cached timestamp metadata has expired" in later.warnings


def test_offline_mode_detects_a_tampered_cache(tmp_path: Path) -> None:
    repository, _ = make_repository()
    client = _client(tmp_path, MemoryFetcher(repository.files()))
    client.bootstrap(repository.roots[0].raw)
    cached = client.cache.targets_dir / TRUSTED_ROOT
    cached.write_bytes(cached.read_bytes().replace(b'"a"', b'"z"'))
    with pytest.raises(VerificationError, match="tampered"):
        client.cached()
    snapshot = client.cache.metadata_dir / "snapshot.json"
    snapshot.write_bytes(snapshot.read_bytes().replace(b'"version": 1', b'"version": 7'))
    with pytest.raises(VerificationError):
        client.cached()


def test_offline_without_cache_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nothing cached"):
        _client(tmp_path, OfflineFetcher()).cached()


def test_caches_are_per_url(tmp_path: Path) -> None:
    one = TrustClient("http://a.test/tuf/", tmp_path)
    two = TrustClient("http://b.test/tuf", tmp_path)
    assert one.cache.path != two.cache.path
    assert one.cache.path.parent == tmp_path
    assert "/" not in one.cache.path.name


def test_signing_config_is_optional(tmp_path: Path) -> None:
    roots = [generate_signer()]
    from tests.unit.trust.helpers import online_signers

    repository = TufRepository.create(
        root_signers=roots,
        threshold=1,
        signers=online_signers(),
        targets={TRUSTED_ROOT: trusted_root_bytes()},
        now=NOW,
    )
    material = _client(tmp_path, MemoryFetcher(repository.files())).bootstrap(
        repository.roots[0].raw
    )
    assert material.signing_config is None
    with pytest.raises(ConfigError, match=SIGNING_CONFIG):
        material.client_trust_config()
    assert Metadata.from_bytes(repository.roots[0].raw).signed.version == 1
