from __future__ import annotations

import datetime as dt
import io
import stat
import tarfile
from pathlib import Path

import pytest

from lacre.errors import ConfigError, InvalidInput, TooLarge, VerificationError
from lacre.keys import generate_signer
from lacre.trust.archive import export, import_
from lacre.trust.cache import ClientCache
from lacre.trust.client import TrustClient
from lacre.trust.targets import SIGNING_CONFIG, TRUSTED_ROOT
from lacre.trust.workspace import Ceremony, Workspace, load_root_signers, read_tree
from tests.unit.trust.helpers import (
    NOW,
    URL,
    MemoryFetcher,
    OfflineFetcher,
    make_repository,
    signing_config_bytes,
    trusted_root_bytes,
)

TARGETS = {TRUSTED_ROOT: trusted_root_bytes(), SIGNING_CONFIG: signing_config_bytes()}


def _workspace(tmp_path: Path, passphrase: bytes | None = None) -> Workspace:
    workspace = Workspace(tmp_path / "repo")
    ceremony = Ceremony(root_keys=3, threshold=2, targets=TARGETS, passphrase=passphrase)
    workspace.init(tmp_path / "offline", ceremony, NOW)
    return workspace


def test_export_import_round_trip(tmp_path: Path) -> None:
    repository, roots = make_repository()
    repository.rotate_root(roots, now=NOW)
    archive = tmp_path / "trust.tar.gz"
    export(repository.files(), archive)
    cache = ClientCache.for_url(tmp_path / "cache", URL)
    material = import_(archive, cache, root=repository.roots[0].raw)
    assert material.trusted_root == trusted_root_bytes()
    assert material.root_version == 2
    assert material.warnings == ()
    offline = TrustClient(URL, tmp_path / "cache", fetcher=OfflineFetcher()).cached()
    assert offline.signing_config == signing_config_bytes()
    online = TrustClient(URL, tmp_path / "cache", fetcher=MemoryFetcher(repository.files()))
    assert online.update().root_version == 2


def test_import_without_pinned_root_warns(tmp_path: Path) -> None:
    repository, _ = make_repository()
    export(repository.files(), tmp_path / "a.tgz")
    material = import_(tmp_path / "a.tgz", ClientCache(tmp_path / "c"))
    assert any("no pinned root" in note for note in material.warnings)


def test_import_refuses_an_archive_from_another_root(tmp_path: Path) -> None:
    repository, _ = make_repository()
    other, _ = make_repository()
    export(repository.files(), tmp_path / "a.tgz")
    with pytest.raises(VerificationError):
        import_(tmp_path / "a.tgz", ClientCache(tmp_path / "c"), root=other.roots[0].raw)
    assert not (tmp_path / "c").exists()


def _tar(tmp_path: Path, members: list[tarfile.TarInfo], data: bytes = b"x") -> Path:
    path = tmp_path / "evil.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for member in members:
            archive.addfile(member, io.BytesIO(data) if member.isreg() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 1) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size if kind == tarfile.REGTYPE else 0
    if kind == tarfile.SYMTYPE:
        info.linkname = "/etc/passwd"
    return info


@pytest.mark.parametrize(
    "member",
    [
        _member("../timestamp.json"),
        _member("/etc/passwd"),
        _member("targets/../../x"),
        _member("timestamp.json", tarfile.SYMTYPE),
        _member("1.root.json", tarfile.LNKTYPE),
    ],
)
def test_import_refuses_hostile_members(tmp_path: Path, member: tarfile.TarInfo) -> None:
    with pytest.raises(InvalidInput):
        import_(_tar(tmp_path, [member]), ClientCache(tmp_path / "c"))


def test_import_refuses_oversized_truncated_and_garbage(tmp_path: Path) -> None:
    big = 2 * 1024 * 1024 + 1
    with pytest.raises(TooLarge):
        import_(
            _tar(tmp_path, [_member("timestamp.json", size=big)], b"x" * big),
            ClientCache(tmp_path / "c"),
        )
    repository, _ = make_repository()
    export(repository.files(), tmp_path / "ok.tgz")
    truncated = tmp_path / "cut.tgz"
    truncated.write_bytes((tmp_path / "ok.tgz").read_bytes()[:200])
    with pytest.raises(InvalidInput):
        import_(truncated, ClientCache(tmp_path / "c"))
    (tmp_path / "junk").write_bytes(b"not an archive")
    with pytest.raises(InvalidInput):
        import_(tmp_path / "junk", ClientCache(tmp_path / "c"))


def test_workspace_init_writes_keys_and_layout(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, passphrase=b"secret")
    offline = sorted(p.name for p in (tmp_path / "offline").iterdir())
    assert offline == ["root-1.pem", "root-2.pem", "root-3.pem"]
    assert b"ENCRYPTED" in (tmp_path / "offline" / "root-1.pem").read_bytes()
    key_mode = (workspace.keys_dir / "timestamp.pem").stat().st_mode
    assert stat.S_IMODE(key_mode) == 0o600
    assert {"1.root.json", "timestamp.json"} <= set(read_tree(workspace.published_dir))
    with pytest.raises(ConfigError, match="already holds"):
        workspace.init(
            tmp_path / "offline2", Ceremony(root_keys=1, threshold=1, targets=TARGETS), NOW
        )


def test_workspace_publish_refresh_and_rotate(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)
    assert workspace.publish({TRUSTED_ROOT: trusted_root_bytes("b")}, NOW) is True
    assert workspace.publish({TRUSTED_ROOT: trusted_root_bytes("b")}, NOW) is False
    assert workspace.refresh(NOW) == ()
    stamp = (workspace.published_dir / "timestamp.json").read_bytes()
    assert workspace.refresh(NOW + dt.timedelta(hours=20)) == ("timestamp",)
    assert (workspace.published_dir / "timestamp.json").read_bytes() != stamp
    roots = load_root_signers(tmp_path / "offline", None)
    newcomer = generate_signer()
    workspace.rotate_root(roots[:2], NOW, add=[newcomer.public_key])
    files = read_tree(workspace.published_dir)
    assert "2.root.json" in files and "1.root.json" in files
    assert "1.targets.json" in files and "2.targets.json" in files


def test_workspace_refresh_sees_publishes_from_another_process(tmp_path: Path) -> None:
    server = _workspace(tmp_path)
    assert server.refresh(NOW) == ()
    Workspace(server.path).publish({TRUSTED_ROOT: trusted_root_bytes("c")}, NOW)
    assert server.refresh(NOW + dt.timedelta(hours=20)) == ("timestamp",)
    files = read_tree(server.published_dir)
    assert "2.targets.json" in files


def test_missing_keys_or_repository_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_root_signers(tmp_path, None)
    with pytest.raises(ConfigError):
        Workspace(tmp_path / "nothing").open()
