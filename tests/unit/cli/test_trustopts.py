"""Which trust material the trust options read: files that override it are not fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from lacre.cli import trustopts
from lacre.cli.trustopts import TrustChoice, TrustDocuments, load_trust, load_trusted_root
from lacre.errors import ConfigError
from lacre.trust.client import TrustMaterial


def _no_base(choice: TrustChoice) -> TrustDocuments:
    raise AssertionError("the instance's trust material was read")


def _files(tmp_path: Path) -> tuple[Path, Path]:
    root, config = tmp_path / "trusted_root.json", tmp_path / "signing_config.json"
    root.write_bytes(b"root")
    config.write_bytes(b"config")
    return root, config


def test_both_files_are_read_without_the_instance(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(trustopts, "_base_documents", _no_base)
    root, config = _files(tmp_path)
    documents = load_trust(TrustChoice(trusted_root=root, signing_config=config))
    assert (documents.trusted_root, documents.signing_config) == (b"root", b"config")
    assert load_trusted_root(TrustChoice(trusted_root=root)) == (b"root", ())


def test_a_missing_document_comes_from_the_instance_with_its_warnings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    base = TrustDocuments(trusted_root=b"base root", signing_config=b"base", warnings=("stale",))
    monkeypatch.setattr(trustopts, "_base_documents", lambda choice: base)
    root, config = _files(tmp_path)
    only_root = load_trust(TrustChoice(trusted_root=root))
    assert (only_root.trusted_root, only_root.signing_config) == (b"root", b"base")
    assert only_root.warnings == ("stale",)
    only_config = load_trust(TrustChoice(signing_config=config))
    assert (only_config.trusted_root, only_config.signing_config) == (b"base root", b"config")
    assert load_trusted_root(TrustChoice(signing_config=config)) == (b"base root", ("stale",))


class _Cache:
    """A TUF client whose verified cache holds ``material`` (or nothing, when None)."""

    def __init__(self, material: TrustMaterial | None) -> None:
        self.material = material

    def cached(self) -> TrustMaterial:
        if self.material is None:
            raise ConfigError("nothing cached")
        return self.material


def test_the_public_good_cache_passes_on_its_own_notes_after_the_reason() -> None:
    material = TrustMaterial(
        trusted_root=b"root",
        signing_config=b"config",
        root_version=1,
        warnings=("cached metadata has expired",),
    )
    offline = trustopts._public_good_fallback(_Cache(material), None)
    assert (offline.trusted_root, offline.warnings) == (b"root", material.warnings)
    failed = trustopts._public_good_fallback(_Cache(material), "unreachable")
    assert failed.warnings == ("unreachable; using the cached trust material", *material.warnings)


def test_with_nothing_cached_the_shipped_copy_is_used_and_only_a_failure_is_warned_about() -> None:
    assert trustopts._public_good_fallback(_Cache(None), None).warnings == ()
    shipped = trustopts._public_good_fallback(_Cache(None), "unreachable")
    assert shipped.warnings == ("unreachable; using the trust material shipped with lacre",)
    assert shipped.trusted_root.startswith(b"{")
