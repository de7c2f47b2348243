"""The test-support code for registries: random images, the registry launcher, services."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lacre.errors import ConfigError
from lacre.oci import mediatypes as mt
from lacre.oci.digest import Digest
from lacre.oci.manifest import parse_manifest
from lacre.testing import registry as registry_module
from lacre.testing import services
from lacre.testing.ocilayout import random_image, random_index


def test_random_image_is_consistent() -> None:
    image = random_image(layers=3, layer_size=10, platform=("linux", "s390x"))
    assert len(image.layers) == 3 and all(len(layer) == 10 for layer in image.layers)
    assert image.manifest.config.digest == Digest.of(image.config)
    assert [d.digest for d in image.manifest.layers] == [Digest.of(b) for b in image.layers]
    config = json.loads(image.config)
    assert config["architecture"] == "s390x"
    assert config["rootfs"]["diff_ids"] == [str(Digest.of(b)) for b in image.layers]
    assert parse_manifest(image.raw) == image.manifest
    assert random_image().raw != random_image().raw


def test_random_index_lists_its_images() -> None:
    index = random_index((("linux", "amd64"), ("linux", "arm64")))
    assert index.index.media_type == mt.OCI_INDEX
    assert [d.digest for d in index.index.manifests] == [Digest.of(i.raw) for i in index.images]
    assert [d.size for d in index.index.manifests] == [len(i.raw) for i in index.images]


def test_missing_registry_binary_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(registry_module, "_DEFAULT_PATH", tmp_path / "absent")
    with pytest.raises(ConfigError, match="docker-registry"):
        registry_module.ThrowawayRegistry().start()


def test_services_use_existing_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LACRE_TEST_POSTGRES_DSN", "postgresql://x")
    monkeypatch.setenv("LACRE_TEST_REGISTRY", "127.0.0.1:5999")
    out = tmp_path / "env"
    script = f'echo "$LACRE_TEST_REGISTRY $LACRE_TEST_POSTGRES_DSN" > {out}; exit 7'
    assert services.main(["--", "sh", "-c", script]) == 7
    assert out.read_text().split() == ["127.0.0.1:5999", "postgresql://x"]


def test_services_report_a_registry_that_cannot_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LACRE_TEST_POSTGRES_DSN", "postgresql://x")
    monkeypatch.delenv("LACRE_TEST_REGISTRY", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(registry_module, "_DEFAULT_PATH", tmp_path / "absent")
    assert services.main(["true"]) == 1
    assert "docker-registry" in capsys.readouterr().err
