"""What a cold ``lacre verify-blob`` imports: only what verifying a hashedrekord bundle needs.

Start-up time of the command is mostly import time, so these tests guard the
import structure: each runs the command in a fresh interpreter and checks that
modules a hashedrekord verification never uses (python-tuf, HTTP clients, DSSE,
RFC 3161, signing, key URIs) were not imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import lacre
from lacre.verify.roots import public_good_trusted_root_bytes

CASES = Path(__file__).parents[2] / "assets" / "conformance" / "bundle-verify"
IDENTITY = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
ISSUER = "https://token.actions.githubusercontent.com"
VERIFY_BLOB = [
    "verify-blob",
    str(CASES / "a.txt"),
    "--bundle",
    str(CASES / "happy-path-v0.3" / "bundle.sigstore.json"),
    "--certificate-identity",
    IDENTITY,
    "--certificate-oidc-issuer",
    ISSUER,
]
NEVER = (
    "tuf",
    "securesystemslib",
    "urllib3",
    "httpx",
    "requests",
    "rfc3161_client",
    "asn1crypto",
    "lacre.verify.rfc3161",
    "lacre.verify.tsa",
    "pkcs11",
    "lacre.dsse",
    "lacre.models.envelope",
    "lacre.keys.uri",
    "lacre.keys.pkcs11",
    "lacre.trust.client",
    "lacre.sign.context",
    "lacre.clients",
    "lacre.transparency.tiles",
)
"""Modules (and their submodules) that verifying a hashedrekord bundle must not import."""

_RUN = """
import json, os, runpy, sys
def end(status):
    raise SystemExit(status)
os._exit = end  # verify-blob ends with os._exit: report the modules before the process ends
sys.argv = ["lacre", *json.loads(sys.argv[1])]
try:
    runpy.run_module("lacre", run_name="__main__")
except SystemExit as exc:
    status = exc.code
else:
    status = 0
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


def imported_by(args: list[str], cache: Path) -> list[str]:
    """The modules ``python -m lacre ARGS`` imported, in a fresh interpreter; it must succeed."""
    done = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps(args)],
        capture_output=True,
        text=True,
        env=_environment(cache),
        check=False,
        timeout=120,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["status"] in (0, None), done.stderr
    modules: list[str] = report["modules"]
    return modules


def _environment(cache: Path) -> dict[str, str]:
    """This checkout's lacre, a cache of the test's own, and updates allowed."""
    source = str(Path(lacre.__file__).parents[1])
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "LACRE_OFFLINE": ""}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    return env


def unwanted(modules: list[str]) -> list[str]:
    """The modules of :data:`NEVER` (or inside them) among ``modules``."""
    return [name for name in modules if any(name == n or name.startswith(f"{n}.") for n in NEVER)]


def test_verify_blob_with_a_trusted_root_imports_only_the_verification_path(
    tmp_path: Path,
) -> None:
    root = tmp_path / "trusted_root.json"
    root.write_bytes(public_good_trusted_root_bytes())
    modules = imported_by([*VERIFY_BLOB, "--trusted-root", str(root)], tmp_path / "cache")
    assert unwanted(modules) == []
    assert "lacre.verify.roots" not in modules  # the shipped root is not read


def test_offline_verify_blob_with_nothing_cached_never_loads_tuf(tmp_path: Path) -> None:
    modules = imported_by([*VERIFY_BLOB, "--offline"], tmp_path / "cache")
    assert unwanted(modules) == []
    assert not (tmp_path / "cache").exists()


def test_the_command_list_loads_no_server_app_or_web_stack(tmp_path: Path) -> None:
    # --help imports every command's module for its summary line: none may pull in the
    # server applications, their configuration (YAML) or the web framework and server.
    modules = imported_by(["--help"], tmp_path / "cache")
    server = ("lacre.apps", "yaml", "fastapi", "starlette", "uvicorn")
    assert [name for name in modules if name.startswith(server)] == []


def run_lacre(args: list[str], cache: Path) -> subprocess.CompletedProcess[str]:
    """``python -m lacre ARGS`` in a process of its own, ending as the command ends it."""
    command = [sys.executable, "-m", "lacre", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=_environment(cache), timeout=120
    )


def test_verify_blob_ends_its_process_with_its_status_and_output(tmp_path: Path) -> None:
    root = tmp_path / "trusted_root.json"
    root.write_bytes(public_good_trusted_root_bytes())
    trusted = [*VERIFY_BLOB, "--trusted-root", str(root)]
    done = run_lacre(trusted, tmp_path / "cache")
    assert (done.returncode, done.stderr) == (0, f"OK: {CASES / 'a.txt'}\n")
    wrong = ["bob@example.com" if arg == IDENTITY else arg for arg in trusted]
    refused = run_lacre(wrong, tmp_path / "cache")
    assert refused.returncode == 1
    assert "certificate identity mismatch: expected bob@example.com" in refused.stderr
