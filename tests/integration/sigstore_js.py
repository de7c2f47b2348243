"""Runs sigstore-js against lacre: the pinned ``@sigstore/cli`` and ``sigstore`` npm packages.

They are installed in ``tests/peers/node`` by ``scripts/install-test-peers``. A missing
Node.js or a missing install fails the test with the reason; it is never skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.servers import Server

PEERS = Path(__file__).resolve().parents[1] / "peers" / "node"
CLI = PEERS / "node_modules" / "@sigstore" / "cli" / "bin" / "run"
SIGN_SCRIPT = PEERS / "sign.js"
INSTALL = "scripts/install-test-peers (run by `make venv`)"
# Variables through which sigstore-js would fetch a CI token of its own instead of ours.
AMBIENT_TOKEN_VARIABLES = ("ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
TIMEOUT_S = 120


def require_node() -> str:
    """The path of ``node``, or a test failure naming what is missing and how to install it."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            f"Node.js is not installed: sigstore-js needs Node.js >= 20 and npm, then {INSTALL}",
            pytrace=False,
        )
    for path in (CLI, SIGN_SCRIPT, PEERS / "node_modules" / "sigstore" / "package.json"):
        if not path.is_file():
            pytest.fail(
                f"sigstore-js is not installed ({path} is missing): run {INSTALL}", pytrace=False
            )
    return node


def exact(value: str) -> str:
    """A sigstore-js identity pattern (a regular expression) matching exactly ``value``."""
    return f"^{re.escape(value)}$"


@dataclass(frozen=True)
class SigstoreJs:
    """sigstore-js with its own home and TUF cache under ``home``."""

    node: str
    home: Path

    @property
    def tuf_cache(self) -> Path:
        """Where ``verify`` keeps the TUF metadata and targets it fetched."""
        return self.home / "tuf-cache"

    def run(self, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
        """Runs ``node ARGS`` with a clean CI environment (and ``token`` as the identity)."""
        env = {k: v for k, v in os.environ.items() if k not in AMBIENT_TOKEN_VARIABLES}
        env.update(HOME=str(self.home), CI="true", BUILDKITE="false", NO_COLOR="1")
        env.pop("SIGSTORE_ID_TOKEN", None)
        if token is not None:
            env["SIGSTORE_ID_TOKEN"] = token
        return subprocess.run(
            [self.node, *args], capture_output=True, text=True, timeout=TIMEOUT_S, env=env
        )

    def verify(
        self,
        bundle: Path,
        server: Server,
        *,
        email: str,
        issuer: str | None = None,
        blob: Path | None = None,
        root: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``sigstore verify`` with trust from ``server``'s TUF repository, pinning only a root.

        The pinned root is ``root``, by default the one ``server`` wrote.
        """
        pinned = root or server.data_dir / "client" / "root.json"
        args = [
            *("--tuf-mirror-url", f"{server.url}/tuf"),
            *("--tuf-root-path", str(pinned)),
            *("--tuf-cache-path", str(self.tuf_cache)),
            *("--certificate-identity-email", exact(email)),
            *("--certificate-issuer", issuer or f"{server.url}/oidc"),
        ]
        if blob is not None:
            args += ["--blob-file", str(blob)]
        return self.run(str(CLI), "verify", str(bundle), *args)

    def attest(
        self, statement: Path, out: Path, server: Server, *, token: str
    ) -> subprocess.CompletedProcess[str]:
        """``sigstore attest`` against ``server``'s CA, Rekor v1 and TSA."""
        services = ["--fulcio-url", server.url, "--rekor-url", server.url]
        services += ["--tsa-server-url", server.url, "--timeout", "30"]
        return self.run(str(CLI), "attest", str(statement), *services, "-o", str(out), token=token)

    def sign_with_urls(
        self, mode: str, source: Path, out: Path, server: Server, *, token: str
    ) -> subprocess.CompletedProcess[str]:
        """The ``sigstore`` library's ``sign`` or ``attest`` (``mode``) against ``server``."""
        urls = ["--fulcio-url", server.url, "--rekor-url", server.url]
        urls += ["--tsa-server-url", server.url]
        return self._sign(mode, source, out, urls, token)

    def sign_with_config(
        self, mode: str, source: Path, out: Path, server: Server, *, rekor_version: int, token: str
    ) -> subprocess.CompletedProcess[str]:
        """``@sigstore/sign`` driven by ``server``'s signing config, using its Rekor v1 or v2."""
        config = str(server.data_dir / "client" / "signing_config.json")
        options = ["--signing-config", config, "--rekor-version", str(rekor_version)]
        return self._sign(mode, source, out, options, token)

    def _sign(
        self, mode: str, source: Path, out: Path, options: list[str], token: str
    ) -> subprocess.CompletedProcess[str]:
        files = ["--mode", mode, "--in", str(source), "--out", str(out)]
        return self.run(str(SIGN_SCRIPT), *files, *options, token=token)
