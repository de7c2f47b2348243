"""Run a command with throwaway test services available.

Usage::

    python -m lacre.testing.services -- COMMAND [ARG...]

Starts one :class:`~lacre.testing.postgres.ThrowawayPostgres` and one
:class:`~lacre.testing.registry.ThrowawayRegistry`, exports the DSN as
``LACRE_TEST_POSTGRES_DSN`` and the registry's ``host:port`` as
``LACRE_TEST_REGISTRY``, runs COMMAND, then stops both and deletes their files
(also when COMMAND fails or is interrupted) and exits with COMMAND's exit
code. A service whose variable is already set is used as it is and not
started. SIGINT and SIGTERM are forwarded to COMMAND.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType

from lacre.errors import Error
from lacre.testing.postgres import DSN_ENV_VAR, ThrowawayPostgres
from lacre.testing.registry import REGISTRY_ENV_VAR, ThrowawayRegistry
from lacre.testing.throwaway import ThrowawayService

USAGE = "usage: python -m lacre.testing.services -- COMMAND [ARG...]"
_FORWARDED = (signal.SIGINT, signal.SIGTERM)
_Handler = Callable[[int, FrameType | None], object] | int | None


def _say(message: str) -> None:
    print(f"lacre.testing.services: {message}", file=sys.stderr, flush=True)


def _terminal_signals_our_group() -> bool:
    """Whether our process group is the terminal's foreground group.

    A Ctrl-C typed there already reaches the child, which shares our group, so
    forwarding it would deliver SIGINT twice.
    """
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            if os.isatty(fd):
                return os.tcgetpgrp(fd) == os.getpgrp()
    return False


@contextlib.contextmanager
def _signal_handlers(handler: _Handler) -> Iterator[None]:
    previous = {signum: signal.signal(signum, handler) for signum in _FORWARDED}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def run_command(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Run ``command`` with ``env``, forwarding SIGINT/SIGTERM; return its exit code.

    A child killed by signal N yields ``128 + N``, as a shell reports it.
    """
    children: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGINT and _terminal_signals_our_group():
            return
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)

    with _signal_handlers(forward):
        try:
            children.append(subprocess.Popen(list(command), env=dict(env)))
        except OSError as exc:
            _say(f"cannot run {command[0]!r}: {exc}")
            return 127
        returncode = children[0].wait()
    return returncode if returncode >= 0 else 128 - returncode


class _Interrupted(Exception):
    """Raised by a signal received while the services start."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise _Interrupted(signum)


@dataclass(frozen=True)
class _Service:
    """A throwaway service: its name, variable, factory and exported value."""

    name: str
    env_var: str
    factory: Callable[[], ThrowawayService]
    value: Callable[[ThrowawayService], str]


def _postgres_dsn(server: ThrowawayService) -> str:
    assert isinstance(server, ThrowawayPostgres)
    return server.dsn


def _registry_address(server: ThrowawayService) -> str:
    assert isinstance(server, ThrowawayRegistry)
    return server.address


SERVICES = (
    _Service("PostgreSQL", DSN_ENV_VAR, ThrowawayPostgres, _postgres_dsn),
    _Service("registry", REGISTRY_ENV_VAR, ThrowawayRegistry, _registry_address),
)


def _start_all(started: list[ThrowawayService], exported: dict[str, str]) -> int | None:
    """Start the services whose variable is unset; an exit code if that failed, else None."""
    for service in SERVICES:
        if os.environ.get(service.env_var):
            continue
        server = service.factory()
        try:
            with _signal_handlers(_interrupt):
                server.start()
        except _Interrupted as interrupted:
            _say(f"interrupted while starting {service.name}")
            return 128 + interrupted.signum
        except Error as exc:
            _say(exc.diagnostics())
            return 1
        started.append(server)
        exported[service.env_var] = service.value(server)
        _say(f"{service.name} ready at {exported[service.env_var]}")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse ``[--] COMMAND [ARG...]``, run it with services; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--"]:
        args = args[1:]
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 0 if args else 2
    started: list[ThrowawayService] = []
    exported: dict[str, str] = {}
    try:
        failed = _start_all(started, exported)
        if failed is not None:
            return failed
        return run_command(args, {**os.environ, **exported})
    finally:
        with _signal_handlers(signal.SIG_IGN):
            for server in reversed(started):
                server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
