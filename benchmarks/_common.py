"""What every benchmark shares.

Progress lines, the command line's common part, the final JSON line, quantiles,
judging figures against targets, a ``lacre server --dev`` process and where
PostgreSQL comes from.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from lacre.testing.postgres import DSN_ENV_VAR, ExistingPostgres, PostgresServer, ThrowawayPostgres
from lacre.testing.throwaway import log_tail

_STARTED = time.perf_counter()
_STARTUP_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 20.0


def say(message: str) -> None:
    """Print a progress line on stderr, after the time since the start."""
    print(f"[{time.perf_counter() - _STARTED:5.1f} s] {message}", file=sys.stderr, flush=True)


def argument_parser(
    doc: str | None, quick: str = "a run of under a minute"
) -> argparse.ArgumentParser:
    """A parser described by the first paragraph of ``doc``, with ``--quick`` (help: ``quick``)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help=quick)
    return parser


def sizes(
    parser: argparse.ArgumentParser, quick: bool, *, minimum: int
) -> Callable[[int | None, int, int], int]:
    """A picker of run sizes: the value given, else the quick or full default, at least ``minimum``.

    A size below ``minimum`` is a usage error reported through ``parser``.
    """

    def pick(value: int | None, quick_default: int, full_default: int) -> int:
        chosen = value if value is not None else (quick_default if quick else full_default)
        if chosen < minimum:
            parser.error(f"sizes must be at least {minimum}")
        return chosen

    return pick


def machine() -> dict[str, Any]:
    """The figures that describe where the benchmark ran."""
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0]}


def report(
    run: Callable[[], dict[str, Any]],
    *,
    failures: tuple[type[Exception], ...] = (),
    verdicts: str | None = None,
) -> int:
    """Run a benchmark; print its figures as the last line of stdout; return the exit code.

    An exception of a type in ``failures`` is printed as ``{"error": ...}``
    instead, with exit code 1. With ``verdicts``, the exit code is also 1
    unless every verdict under that key is true.
    """
    started = time.perf_counter()
    try:
        figures = run()
    except failures as exc:
        say(f"FAILED: {exc}")
        print(json.dumps({"error": str(exc)}), flush=True)
        return 1
    figures["wall_s"] = round(time.perf_counter() - started, 1)
    say(f"done in {figures['wall_s']} s")
    print(json.dumps(figures, sort_keys=True), flush=True)
    return 0 if verdicts is None or all(figures[verdicts].values()) else 1


def rounded(value: float | None, digits: int = 4) -> float | None:
    """``value`` rounded to ``digits``; None stays None and NaN becomes None."""
    return None if value is None or math.isnan(value) else round(value, digits)


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The nearest-rank ``q`` quantile of the sorted ``ordered``; None if it is empty."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def judge(
    figures: Mapping[str, Any], targets: Mapping[str, float], at_most: frozenset[str]
) -> dict[str, bool | None]:
    """Whether each target is met: at least the target, or at most it for ``at_most`` keys.

    None where the figure was not measured.
    """
    verdicts: dict[str, bool | None] = {}
    for key, target in targets.items():
        value = figures.get(key)
        if not isinstance(value, int | float):
            verdicts[key] = None
        elif key in at_most:
            verdicts[key] = value <= target
        else:
            verdicts[key] = value >= target
    return verdicts


@contextlib.contextmanager
def postgres_server(say: Callable[[str], None]) -> Iterator[tuple[PostgresServer, str]]:
    """The server named by ``LACRE_TEST_POSTGRES_DSN``, or a throwaway one; with its origin."""
    dsn = os.environ.get(DSN_ENV_VAR)
    if dsn:
        yield ExistingPostgres(dsn), DSN_ENV_VAR
        return
    say("starting a throwaway PostgreSQL cluster")
    with ThrowawayPostgres() as server:
        yield server, "throwaway"


class ServerProcess:
    """A server subprocess that prints ``... ready at <URL>`` once it accepts connections."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        """Start ``command`` and wait until it says it is ready."""
        self.name = name
        self.log_path = log
        self._log: IO[bytes] = log.open("wb")
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self._log, env=env, text=True
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._drain, args=(lines,), daemon=True).start()
        try:
            line = lines.get(timeout=_STARTUP_TIMEOUT_S)
        except queue.Empty:
            line = None
        if line is None or " ready at " not in line:
            self.stop()
            raise RuntimeError(f"{name} did not start: {line!r}\n{self.log_tail()}")
        self.url = line.split()[-1]
        parts = urlsplit(self.url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80

    def _drain(self, lines: queue.Queue[str | None]) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            lines.put(line.strip())
        lines.put(None)

    @property
    def pid(self) -> int:
        """The server's process ID."""
        return self.process.pid

    def log_tail(self) -> str:
        """The last lines the server wrote on stderr."""
        return log_tail(self.log_path)

    def token(self, email: str) -> str:
        """An identity token for ``email`` from a development server's issuer."""
        answer = httpx.post(f"{self.url}/oidc/token", json={"email": email}, timeout=30)
        answer.raise_for_status()
        value = answer.json()["id_token"]
        assert isinstance(value, str)
        return value

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and reap it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    def __enter__(self) -> ServerProcess:
        """Use the server as a context manager that stops it."""
        return self

    def __exit__(self, *_: object) -> None:
        """Stop the server."""
        self.stop()


def server_env() -> dict[str, str]:
    """The environment for servers: ours, minus a DSN that would redirect SQLite runs."""
    env = dict(os.environ)
    env.pop("LACRE_POSTGRES_DSN", None)
    return env


def start_lacre(workdir: Path, name: str, *extra: str) -> ServerProcess:
    """``lacre server --dev`` on a fresh data directory ``workdir/name``, any free port."""
    data = workdir / name
    command = [sys.executable, "-m", "lacre", "server", "--dev", "--data-dir", str(data)]
    command += ["--port", "0", *extra]
    return ServerProcess(f"lacre server ({name})", command, server_env(), workdir / f"{name}.log")
