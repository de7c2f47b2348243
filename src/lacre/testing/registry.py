"""A throwaway OCI registry for tests and benchmarks.

:class:`ThrowawayRegistry` runs Debian's ``docker-registry`` (distribution
2.8) on a free port of 127.0.0.1 with its storage in a temporary directory,
deleted on stop. :class:`ExistingRegistry` offers the same interface over a
registry that is already running (for instance one started by
:mod:`lacre.testing.services`).

Distribution 2.8 does not implement the OCI 1.1 referrers API: every
``GET /v2/<name>/referrers/<digest>`` is answered ``404 page not found``
(``text/plain``), whatever the configuration. Against this registry clients
therefore always take the referrers tag-schema fallback, and no configuration
is needed to make the referrers API answer 404.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Protocol

import httpx

from lacre.errors import ConfigError, NetworkError
from lacre.testing.throwaway import ThrowawayService, log_tail, start_on_free_port

REGISTRY_ENV_VAR = "LACRE_TEST_REGISTRY"
"""Environment variable through which a running test registry (``host:port``) is shared."""

DEBIAN_PACKAGE = "docker-registry"
_BINARY = "docker-registry"
_DEFAULT_PATH = Path("/usr/bin/docker-registry")
_START_ATTEMPTS = 3
_READY_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 10.0
REFERRERS_API = False
"""Whether the registry implements the referrers API (distribution 2.8 does not)."""

_CONFIG = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: lacre-test-registry
"""


class RegistryServer(Protocol):
    """A running registry tests can push to."""

    @property
    def address(self) -> str:
        """``host:port`` of the registry (plain HTTP, loopback)."""
        ...


def find_binary() -> Path:
    """The ``docker-registry`` program; raises ConfigError naming the package if missing."""
    found = shutil.which(_BINARY)
    if found is not None:
        return Path(found)
    if _DEFAULT_PATH.is_file():
        return _DEFAULT_PATH
    raise ConfigError(
        f"'{_BINARY}' not found on PATH or at {_DEFAULT_PATH}; install the Debian package "
        f"'{DEBIAN_PACKAGE}' (scripts/install-system-deps does this)"
    )


def wait_until_ready(address: str, timeout_s: float = _READY_TIMEOUT_S) -> None:
    """Poll ``GET /v2/`` until it answers 200; raise NetworkError on timeout."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"http://{address}/v2/", timeout=2.0)
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if answer.status_code == httpx.codes.OK:
                return
            last = f"HTTP {answer.status_code}"
        time.sleep(0.05)
    raise NetworkError(f"registry at {address} not ready after {timeout_s} s", found=last)


class ExistingRegistry:
    """A registry that is already running at ``host:port``."""

    def __init__(self, address: str) -> None:
        """Wrap the registry at ``address`` (``host:port``)."""
        self._address = address

    @property
    def address(self) -> str:
        """The address this object was built from."""
        return self._address


class ThrowawayRegistry(ThrowawayService):
    """A private ``docker-registry`` process with storage in a temporary directory.

    Use it as a context manager: entering starts the registry on a free port of
    127.0.0.1; leaving stops it and deletes its storage.
    """

    def __init__(self, *, binary: Path | None = None) -> None:
        """Configure (but do not start) a registry; ``binary`` defaults to :func:`find_binary`."""
        self._binary = binary
        self._base: Path | None = None
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``."""
        if self._port is None:
            raise RuntimeError("ThrowawayRegistry is not running")
        return f"127.0.0.1:{self._port}"

    @property
    def storage(self) -> Path:
        """The directory holding the registry's blobs and repositories."""
        if self._base is None:
            raise RuntimeError("ThrowawayRegistry is not running")
        return self._base / "data"

    def start(self) -> None:
        """Start the registry; ConfigError if it is not installed, NetworkError if it fails."""
        if self._base is not None:
            raise RuntimeError("ThrowawayRegistry is already started")
        binary = self._binary or find_binary()
        self._base = Path(tempfile.mkdtemp(prefix="lacre-registry-"))
        try:
            self._start(binary)
        except BaseException:
            self.stop()
            raise

    def _start(self, binary: Path) -> None:
        assert self._base is not None
        base = self._base

        def attempt(port: int) -> str | None:
            config = base / f"config-{port}.yml"
            config.write_text(_CONFIG.format(root=base / "data", port=port))
            log = base / f"registry-{port}.log"
            with log.open("wb") as sink:
                self._process = subprocess.Popen(
                    [str(binary), "serve", str(config)],
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            try:
                self._wait(port)
            except NetworkError as exc:
                self._terminate()
                return f"{exc}\n{log_tail(log, missing='(no registry log)')}"
            return None

        self._port = start_on_free_port(
            attempt, attempts=_START_ATTEMPTS, what="docker-registry", error=NetworkError
        )

    def _wait(self, port: int) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise NetworkError(f"docker-registry exited with code {self._process.returncode}")
            with contextlib.suppress(NetworkError):
                wait_until_ready(f"127.0.0.1:{port}", timeout_s=0.5)
                return
        raise NetworkError(f"docker-registry not ready after {_READY_TIMEOUT_S} s")

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        """Stop the registry (if running) and delete its storage; safe to call twice."""
        base, self._base, self._port = self._base, None, None
        try:
            self._terminate()
        finally:
            if base is not None:
                shutil.rmtree(base, ignore_errors=True)
