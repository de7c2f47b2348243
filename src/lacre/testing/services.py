"""Run a command with throwaway test services available.

Usage::

    python -m lacre.testing.services -- COMMAND [ARG...]

Starts one :class:`~lacre.testing.postgres.ThrowawayPostgres`, exports its DSN
as ``LACRE_TEST_POSTGRES_DSN``, runs COMMAND, then stops and deletes the
cluster (also when COMMAND fails or is interrupted) and exits with COMMAND's
exit code. If ``LACRE_TEST_POSTGRES_DSN`` is already set, that server is used
and nothing is started. SIGINT and SIGTERM are forwarded to COMMAND.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import FrameType

from lacre.errors import Error
from lacre.testing.postgres import DSN_ENV_VAR, ThrowawayPostgres

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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse ``[--] COMMAND [ARG...]``, run it with services; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--"]:
        args = args[1:]
    if not args or args[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        return 0 if args else 2
    if os.environ.get(DSN_ENV_VAR):
        return run_command(args, os.environ)

    postgres = ThrowawayPostgres()
    try:
        with _signal_handlers(_interrupt):
            postgres.start()
    except _Interrupted as interrupted:
        _say("interrupted while starting PostgreSQL")
        return 128 + interrupted.signum
    except Error as exc:
        _say(exc.diagnostics())
        return 1
    try:
        _say(f"PostgreSQL ready at {postgres.dsn}")
        return run_command(args, {**os.environ, DSN_ENV_VAR: postgres.dsn})
    finally:
        with _signal_handlers(signal.SIG_IGN):
            postgres.stop()


if __name__ == "__main__":
    raise SystemExit(main())
