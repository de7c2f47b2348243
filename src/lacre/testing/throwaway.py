"""What every throwaway test service shares: its lifecycle, a free port, its log.

A throwaway service (PostgreSQL, an OCI registry) lives in a temporary
directory, starts on a free port of 127.0.0.1, retrying on another port when
the start fails, and deletes everything again when it stops.
"""

from __future__ import annotations

import abc
import socket
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from lacre.errors import Error

_LOG_TAIL_LINES = 20


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def log_tail(path: Path, *, missing: str = "(no log)") -> str:
    """The last lines of the log at ``path``, or ``missing`` if it cannot be read."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return missing
    return "\n".join(lines[-_LOG_TAIL_LINES:])


def start_on_free_port(
    attempt: Callable[[int], str | None], *, attempts: int, what: str, error: type[Error]
) -> int:
    """Call ``attempt`` on free ports until it succeeds; return the port it started on.

    ``attempt`` returns None once the service listens on the port, else why it
    failed (having cleaned up after itself). After ``attempts`` failures raises
    ``error`` listing every failure.
    """
    failures: list[str] = []
    for _ in range(attempts):
        port = free_port()
        failure = attempt(port)
        if failure is None:
            return port
        failures.append(f"port {port}: {failure}")
    raise error(f"{what} did not start after {attempts} attempts:\n" + "\n".join(failures))


class ThrowawayService(abc.ABC):
    """A service started on entering a ``with`` block and stopped, files deleted, on leaving."""

    @abc.abstractmethod
    def start(self) -> None:
        """Start the service."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop the service (if running) and delete its files; safe to call twice."""

    def __enter__(self) -> Self:
        """Start the service."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the service and delete its files."""
        self.stop()
