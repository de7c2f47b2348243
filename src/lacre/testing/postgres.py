"""A throwaway PostgreSQL cluster for tests and benchmarks.

:class:`ThrowawayPostgres` runs ``initdb`` in a temporary directory, starts a
server on a free loopback port and deletes everything again on exit.
:class:`ExistingPostgres` offers the same interface over a server that is
already running (for instance one started by :mod:`lacre.testing.services`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from lacre.errors import ConfigError, InvalidInput, StorageError
from lacre.testing.throwaway import ThrowawayService, log_tail, start_on_free_port

DSN_ENV_VAR = "LACRE_TEST_POSTGRES_DSN"
"""Environment variable through which a running test server is shared."""

DEBIAN_PACKAGE = "postgresql"
_SERVER_USER = "postgres"
_DISTRO_ROOT = Path("/usr/lib/postgresql")
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_START_ATTEMPTS = 3
_TIMEOUT_S = 120


class PostgresServer(Protocol):
    """A PostgreSQL server that tests can create databases on."""

    @property
    def dsn(self) -> str:
        """DSN of the server's maintenance database, as a superuser."""
        ...

    def create_database(self, name: str) -> str:
        """Create an empty database called ``name`` and return its DSN."""
        ...

    def drop_database(self, name: str) -> None:
        """Drop the database ``name`` if it exists, closing its connections."""
        ...


def find_bindir() -> Path:
    """Return the directory holding the newest PostgreSQL server binaries.

    Looks in ``/usr/lib/postgresql/*/bin`` (Debian's layout), then at
    ``pg_config --bindir`` and finally at ``initdb`` on the ``PATH``. Raises
    :class:`~lacre.errors.ConfigError` if no directory has both ``initdb`` and
    ``pg_ctl``.
    """
    candidates = sorted(_DISTRO_ROOT.glob("*/bin"), key=_version_key, reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(Path(result.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb is not None:
        candidates.append(Path(initdb).parent)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise ConfigError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in "
        f"{_DISTRO_ROOT}/*/bin, via pg_config or on PATH; install the Debian "
        f"package '{DEBIAN_PACKAGE}' (scripts/install-system-deps does this)"
    )


def _version_key(bindir: Path) -> tuple[int, ...]:
    """Sort key for ``/usr/lib/postgresql/<version>/bin``: numeric version."""
    parts = bindir.parent.name.split(".")
    return tuple(int(part) if part.isdigit() else -1 for part in parts)


def dsn_with_database(dsn: str, name: str) -> str:
    """Return ``dsn`` with its database name replaced by ``name``.

    URL DSNs stay URLs; ``key=value`` DSNs stay in that form.
    """
    if dsn.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(dsn)
        return urlunsplit(parts._replace(path="/" + quote(name, safe="")))
    return make_conninfo(dsn, dbname=name)


def _checked_name(name: str) -> str:
    if not _DB_NAME.fullmatch(name):
        raise InvalidInput(
            "invalid test database name",
            expected="lowercase letters, digits and '_', at most 63, not starting with a digit",
            found=repr(name),
        )
    return name


def create_database(admin_dsn: str, name: str) -> str:
    """Create the empty database ``name`` on the server of ``admin_dsn``; return its DSN."""
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
        sql.Identifier(_checked_name(name))
    )
    with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)
    return dsn_with_database(admin_dsn, name)


def drop_database(admin_dsn: str, name: str) -> None:
    """Drop the database ``name`` on the server of ``admin_dsn``, closing its connections."""
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(_checked_name(name))
    )
    with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


class ExistingPostgres:
    """A PostgreSQL server that is already running, reached through a superuser DSN."""

    def __init__(self, dsn: str) -> None:
        """Wrap the server reached through ``dsn`` (which must allow CREATE DATABASE)."""
        self._dsn = dsn

    @property
    def dsn(self) -> str:
        """The DSN this object was built from."""
        return self._dsn

    def create_database(self, name: str) -> str:
        """Create an empty database called ``name`` and return its DSN."""
        return create_database(self._dsn, name)

    def drop_database(self, name: str) -> None:
        """Drop the database ``name`` if it exists, closing its connections."""
        drop_database(self._dsn, name)


class ThrowawayPostgres(ThrowawayService):
    """A private PostgreSQL cluster living in a temporary directory.

    Use it as a context manager: entering runs ``initdb`` and starts the
    server on a free port of 127.0.0.1; leaving stops the server and deletes
    the directory. Authentication is ``trust`` for the ``postgres`` superuser.
    ``fsync`` stays on, so durability behaves as in production.

    When running as root, the cluster belongs to the ``postgres`` system user
    and the server commands run through ``runuser``, because PostgreSQL
    refuses to run as root.
    """

    def __init__(
        self,
        *,
        bindir: Path | None = None,
        max_connections: int = 200,
        shared_buffers: str = "256MB",
    ) -> None:
        """Configure (but do not start) a cluster; ``bindir`` defaults to :func:`find_bindir`."""
        self._bindir = bindir
        self._max_connections = max_connections
        self._shared_buffers = shared_buffers
        self._base: Path | None = None
        self._port: int | None = None
        self._prefix: list[str] = []

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError("ThrowawayPostgres is not running")
        return self._port

    @property
    def dsn(self) -> str:
        """DSN of the ``postgres`` database as the ``postgres`` superuser."""
        return f"postgresql://{_SERVER_USER}@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str) -> str:
        """Create an empty database called ``name`` and return its DSN."""
        return create_database(self.dsn, name)

    def drop_database(self, name: str) -> None:
        """Drop the database ``name`` if it exists, closing its connections."""
        drop_database(self.dsn, name)

    def start(self) -> None:
        """Create the cluster and start the server.

        Raises :class:`~lacre.errors.ConfigError` if the server binaries or the
        ``postgres`` user are missing, :class:`~lacre.errors.StorageError` if
        ``initdb`` fails or the server does not start.
        """
        if self._base is not None:
            raise RuntimeError("ThrowawayPostgres is already started")
        if self._bindir is None:
            self._bindir = find_bindir()
        bindir = self._bindir
        owner = self._prepare_privileges()
        try:
            self._base = Path(tempfile.mkdtemp(prefix="lacre-pg-"))
            (self._base / "sock").mkdir()
            if owner is not None:
                for path in (self._base, self._base / "sock"):
                    os.chown(path, owner.pw_uid, owner.pw_gid)
            self._initdb(bindir)
            self._start_server(bindir)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (if running) and delete the cluster; safe to call twice."""
        base, bindir = self._base, self._bindir
        self._base = None
        self._port = None
        if base is None:
            return
        try:
            if bindir is not None:
                self._stop_server(bindir, base / "data", "fast")
        finally:
            shutil.rmtree(base, ignore_errors=True)

    def _stop_server(self, bindir: Path, data: Path, mode: str) -> None:
        """Stop the postmaster of ``data`` if one runs, escalating to immediate shutdown."""
        if not (data / "postmaster.pid").exists():
            return
        stopped = self._run(bindir / "pg_ctl", "stop", "-D", str(data), "-m", mode, "-w")
        if stopped.returncode != 0 and mode != "immediate":
            self._run(bindir / "pg_ctl", "stop", "-D", str(data), "-m", "immediate", "-w")

    def _prepare_privileges(self) -> pwd.struct_passwd | None:
        """Set the command prefix needed to run server commands; return the owner to chown to."""
        if os.geteuid() != 0:
            self._prefix = []
            return None
        try:
            owner = pwd.getpwnam(_SERVER_USER)
        except KeyError:
            raise ConfigError(
                f"running as root, but there is no '{_SERVER_USER}' system user to run "
                f"PostgreSQL as; install the Debian package '{DEBIAN_PACKAGE}'"
            ) from None
        runuser = shutil.which("runuser")
        if runuser is None:
            raise ConfigError("running as root, but 'runuser' (util-linux) is not on PATH")
        self._prefix = [runuser, "-u", _SERVER_USER, "--"]
        return owner

    def _run(self, program: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a server command; on timeout or interruption kill its whole process group.

        ``runuser`` does not pass signals on to the command it runs, so killing
        only the direct child could leave ``initdb`` writing into a directory
        that is being deleted.
        """
        command = [*self._prefix, str(program), *args]
        with subprocess.Popen(
            command,
            cwd=tempfile.gettempdir(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        ) as process:
            try:
                stdout, stderr = process.communicate(timeout=_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                raise StorageError(f"{program.name} {args[0]} took over {_TIMEOUT_S} s") from None
            except BaseException:
                _kill_group(process)
                raise
        return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)

    def _initdb(self, bindir: Path) -> None:
        assert self._base is not None
        result = self._run(
            bindir / "initdb",
            "-D",
            str(self._base / "data"),
            "--auth=trust",
            "-U",
            _SERVER_USER,
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        if result.returncode != 0:
            raise StorageError(
                f"initdb failed (exit code {result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}"
            )

    def _start_server(self, bindir: Path) -> None:
        assert self._base is not None
        base = self._base

        def attempt(port: int) -> str | None:
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -k {base / 'sock'} "
                f"-c max_connections={self._max_connections} "
                f"-c shared_buffers={self._shared_buffers}"
            )
            log = base / f"postgres-{port}.log"
            result = self._run(
                bindir / "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(base / "data"),
                "-l",
                str(log),
                "-o",
                options,
            )
            if result.returncode == 0:
                return None
            self._stop_server(bindir, base / "data", "immediate")
            return f"{result.stderr.strip()}\n{log_tail(log, missing='(no server log)')}"

        self._port = start_on_free_port(
            attempt, attempts=_START_ATTEMPTS, what="PostgreSQL", error=StorageError
        )


def _kill_group(process: subprocess.Popen[str]) -> None:
    """Kill ``process`` and everything in its process group, then reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
