from __future__ import annotations

import datetime as dt
import json

import pytest

from lacre.errors import ConfigError, InvalidInput, TooLarge, VerificationError
from lacre.keys import KeyAlgorithm, generate_signer
from lacre.trust.layout import load_published
from lacre.trust.metadata import check_signed
from lacre.trust.repository import TufRepository
from lacre.trust.targets import SIGNING_CONFIG, TRUSTED_ROOT
from lacre.trust.tufapi import Metadata
from tests.unit.trust.helpers import NOW, make_repository, online_signers, trusted_root_bytes


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.ECDSA_P256_SHA256, KeyAlgorithm.ED25519])
def test_ceremony_publishes_the_consistent_snapshot_layout(algorithm: KeyAlgorithm) -> None:
    repository, _ = make_repository(root_keys=3, threshold=2, algorithm=algorithm)
    files = repository.files()
    sha = repository.targets.signed.targets[TRUSTED_ROOT].hashes["sha256"]
    assert {"1.root.json", "timestamp.json", "1.snapshot.json", "1.targets.json"} <= set(files)
    assert files[f"targets/{sha}.{TRUSTED_ROOT}"] == trusted_root_bytes()
    root = Metadata.from_bytes(files["1.root.json"]).signed
    assert root.consistent_snapshot is True
    assert root.roles["root"].threshold == 2
    assert len(root.roles["root"].keyids) == 3
    assert len(Metadata.from_bytes(files["1.root.json"]).signatures) == 3
    assert root.expires - NOW == dt.timedelta(days=365)
    document = json.loads(files["timestamp.json"])
    assert document["signed"]["meta"]["snapshot.json"]["version"] == 1
    assert document["signed"]["expires"].endswith("Z")


def test_ceremony_refuses_bad_thresholds_and_keys() -> None:
    roots = [generate_signer()]
    for threshold in (0, 2):
        with pytest.raises(InvalidInput, match="threshold"):
            TufRepository.create(
                root_signers=roots,
                threshold=threshold,
                signers=online_signers(),
                targets={},
                now=NOW,
            )
    with pytest.raises(InvalidInput, match="P-256 or Ed25519"):
        TufRepository.create(
            root_signers=[generate_signer(KeyAlgorithm.ECDSA_P384_SHA384)],
            threshold=1,
            signers=online_signers(),
            targets={},
            now=NOW,
        )


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("../evil", b"{}", InvalidInput),
        ("a/b.json", b"{}", InvalidInput),
        ("", b"{}", InvalidInput),
        (TRUSTED_ROOT, b"not json", InvalidInput),
        (TRUSTED_ROOT, b"[1]", InvalidInput),
        (TRUSTED_ROOT, b'{"mediaType": "application/json"}', InvalidInput),
        (SIGNING_CONFIG, trusted_root_bytes(), InvalidInput),
        ("big.bin", b"x" * (1024 * 1024 + 1), TooLarge),
    ],
)
def test_publish_refuses_bad_targets(name: str, data: bytes, error: type[Exception]) -> None:
    repository, _ = make_repository()
    with pytest.raises(error):
        repository.publish({name: data}, NOW)
    assert repository.targets.version == 1


def test_publish_bumps_versions_and_keeps_other_targets() -> None:
    repository, _ = make_repository()
    assert repository.publish({TRUSTED_ROOT: trusted_root_bytes()}, NOW) is False
    assert repository.publish({TRUSTED_ROOT: trusted_root_bytes("b")}, NOW) is True
    assert (repository.targets.version, repository.snapshot.version) == (2, 2)
    assert repository.timestamp.version == 2
    assert set(repository.target_files) == {TRUSTED_ROOT, SIGNING_CONFIG}
    reloaded = load_published(repository.files())
    assert reloaded.target_files[TRUSTED_ROOT] == trusted_root_bytes("b")


def test_refresh_does_nothing_when_nothing_is_due() -> None:
    repository, _ = make_repository()
    before = repository.files()
    assert repository.refresh(NOW + dt.timedelta(hours=11)) == ()
    assert repository.files() == before


def test_refresh_resigns_only_what_is_due() -> None:
    repository, _ = make_repository()
    assert repository.refresh(NOW + dt.timedelta(hours=13)) == ("timestamp",)
    assert (repository.snapshot.version, repository.timestamp.version) == (1, 2)
    later = NOW + dt.timedelta(days=4)
    assert repository.refresh(later) == ("snapshot", "timestamp")
    assert repository.snapshot.version == 2
    assert repository.refresh(NOW + dt.timedelta(days=46)) == ("targets", "snapshot", "timestamp")
    assert repository.targets.version == 2
    assert repository.timestamp.signed.expires > NOW + dt.timedelta(days=46)


def test_refresh_without_online_keys_is_a_config_error() -> None:
    repository, _ = make_repository()
    keyless = TufRepository.from_published(load_published(repository.files()))
    with pytest.raises(ConfigError, match="timestamp key"):
        keyless.refresh(NOW + dt.timedelta(hours=20))


def test_wrong_online_keys_are_refused() -> None:
    repository, _ = make_repository()
    with pytest.raises(ConfigError, match="not the one root v1 names"):
        TufRepository.from_published(load_published(repository.files()), online_signers())


def test_root_rotation_is_signed_by_old_and_new_thresholds() -> None:
    repository, roots = make_repository(root_keys=2, threshold=2)
    newcomer = generate_signer(KeyAlgorithm.ED25519)
    new_root = repository.rotate_root(
        [*roots, newcomer], now=NOW, add=[newcomer.public_key], remove=[roots[0].public_key]
    )
    assert new_root.version == 2
    old = repository.roots[0].signed
    check_signed(old, "root", new_root, "root v2")
    check_signed(new_root.signed, "root", new_root, "root v2")
    assert "2.root.json" in repository.files() and "1.root.json" in repository.files()
    assert len(new_root.signed.roles["root"].keyids) == 2


def test_root_rotation_without_the_old_threshold_fails_and_changes_nothing() -> None:
    repository, roots = make_repository(root_keys=2, threshold=2)
    newcomer = generate_signer()
    with pytest.raises(VerificationError, match="signed by 1/2"):
        repository.rotate_root([roots[0], newcomer], now=NOW, add=[newcomer.public_key])
    assert len(repository.roots) == 1


def test_root_rotation_without_the_new_threshold_fails() -> None:
    repository, roots = make_repository()
    newcomer = generate_signer()
    with pytest.raises(VerificationError, match="root v2"):
        repository.rotate_root(roots, now=NOW, add=[newcomer.public_key], threshold=2)


def test_root_rotation_refuses_strangers_and_unknown_removals() -> None:
    repository, roots = make_repository()
    with pytest.raises(InvalidInput, match="not a root key"):
        repository.rotate_root([*roots, generate_signer()], now=NOW)
    with pytest.raises(InvalidInput, match="cannot remove"):
        repository.rotate_root(roots, now=NOW, remove=[generate_signer().public_key])


def test_rotating_online_keys_resigns_the_online_roles() -> None:
    repository, roots = make_repository()
    fresh = online_signers()
    repository.rotate_root(roots, now=NOW, online=fresh)
    root = repository.root.signed
    for role in ("targets", "snapshot", "timestamp"):
        signed = getattr(repository, role)
        check_signed(root, role, signed, role)
    assert repository.targets.version == 2


def test_load_published_detects_tampered_targets() -> None:
    repository, _ = make_repository()
    files = repository.files()
    path = next(name for name in files if name.endswith(TRUSTED_ROOT))
    files[path] = files[path].replace(b"x-tag", b"x-bad")
    with pytest.raises(VerificationError, match="does not match"):
        load_published(files)


def test_load_published_refuses_gaps_in_roots() -> None:
    repository, roots = make_repository()
    repository.rotate_root(roots, now=NOW)
    repository.rotate_root(roots, now=NOW)
    files = repository.files()
    del files["2.root.json"]
    with pytest.raises(InvalidInput, match="consecutive"):
        load_published(files)
