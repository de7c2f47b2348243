"""HTTP benchmark of ``lacre server``: Rekor writes and tile reads through the whole stack.

Usage::

    python benchmarks/log_http.py --quick     # under a minute
    python benchmarks/log_http.py             # longer phases, a larger pool of entries
    python benchmarks/log_http.py --quick --profile DIR     # and profile the server (py-spy)

256 concurrent clients, each on its own keep-alive HTTP/1.1 connection, post
distinct ``hashedrekord`` entries with real ECDSA P-256 signatures to a
``lacre server --dev`` started as a subprocess, and each waits for the answer
(201, with an inclusion proof and, for Rekor v1, a signed entry timestamp)
before posting the next. The requests are generated and signed before any
timing, so during the phases the client spends its CPU on HTTP only; it is a
small asyncio client writing raw HTTP/1.1 (the reference phase shows what
httpx would cost instead).

Phases, in order:

1. **Reference: a trivial uvicorn endpoint.** A tiny ASGI application
   answering ``{}`` to every request, under uvicorn with the server's settings,
   receives the same requests from the same client. Then the same with
   httpx as the client (its CPU cost, for the record) and a trivial FastAPI
   route (the framework's own cost).
2. **SQLite, Rekor v1.** ``POST /api/v1/log/entries`` on a fresh data
   directory. A sample of answers is checked afterwards: inclusion proof
   against the root and the SET against the log's key.
3. **SQLite, Rekor v2.** ``POST /api/v2/log/entries`` on the same server.
4. **Tile reads.** 64 clients read random tiles of both logs (half full hash
   tiles and entry bundles, half the partial tiles of the right edge); then
   hash tiles only, and entry bundles only.
5. **PostgreSQL, Rekor v1** on a fresh database: in the server named by
   ``LACRE_TEST_POSTGRES_DSN`` if set, otherwise in a throwaway cluster.

Clients open their connections one after the other before the load starts
(each asks ``GET /healthz`` once): a saturated server is slow to take on new
connections. Every phase then runs for a fixed time after a warm-up that is
not counted (and lasts until every client has had an answer).
Throughput counts the answers with the expected status received in the
measured window; latency covers the requests sent in it, from the first byte
written to the last byte read. The CPU time of the client (this process), of
the server process (and of its main thread, the event loop), of the database
backends and of every other process of the machine over the window is
recorded too: figures taken while other work ran are not comparable.

``--profile DIR`` samples the SQLite server with py-spy (not a project
dependency: ``pip install py-spy``) during the v1 and tile windows and
summarizes where the GIL-holding time went.

Human-readable progress goes to stderr; the last line of stdout is one JSON
object with every figure (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import itertools
import json
import math
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastapi
import fastapi.responses
import httpx
import psycopg
from _common import (
    ServerProcess,
    argument_parser,
    judge,
    machine,
    postgres_server,
    quantile,
    report,
    rounded,
    say,
    server_env,
    sizes,
    start_lacre,
)
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from lacre.keys import PublicKey
from lacre.rekor.set import verify_inclusion_promise
from lacre.transparency import merkle
from lacre.transparency.tiles import tile_refs_for_size

TARGETS: dict[str, float] = {
    "sqlite_entries_per_s": 2_000,
    "sqlite_p99_s": 1.0,
    "tile_reads_per_s": 5_000,
}
"""What the server should reach on 2 cores."""

_AT_MOST = frozenset({"sqlite_p99_s"})
"""Targets that are upper bounds; every other target is a lower bound."""

REFERENCES: dict[str, Any] = {
    "trillian_mysql_entries_per_s": [400, 500],
    "tessera_ct_log_2_vcpu_entries_per_s": 600,
    "uvicorn_trivial_requests_per_s_in_issue": 22_000,
}
"""Figures of other systems quoted by the issue, for scale."""

V1_PATH = "/api/v1/log/entries"
V2_PATH = "/api/v2/log/entries"
V1_LOG_PREFIX = "/logs/rekor-v1"
KEYS = 20
"""Signing keys the entries are spread over."""
CLIENTS = 256
TILE_CLIENTS = 64
VERIFIED_ANSWERS = 200
"""Answers of each write phase whose proofs (and SETs) are checked after the phase."""

PRIMING_PATH = "/healthz"
"""What each client asks once, before the load, on its new connection (any answer will do)."""
_READY_TIMEOUT_S = 60.0
_MAX_ERRORS = 1000
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PROFILE_RATE = 200
_BUSY_WARNING = 0.1
"""Cores used by other processes during a window beyond which the progress line warns."""


@dataclass(frozen=True)
class Settings:
    """Sizes and durations of one run."""

    quick: bool
    entries: int
    warmup_s: float
    write_s: float
    v2_s: float
    postgres_s: float
    tiles_s: float
    reference_s: float
    clients: int
    tile_clients: int
    postgres: bool
    v2: bool
    compare_httpx: bool
    profile: Path | None
    seed: int
    workers: int


# --- the workload ------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class Workload:
    """Pre-built request bodies: entry ``i`` is the same artifact signature in both forms."""

    v1_bodies: list[bytes]
    v2_bodies: list[bytes]
    seconds: float


def build_workload(count: int, seed: int) -> Workload:
    """Sign ``count`` distinct artifact digests with ``KEYS`` P-256 keys; build both bodies.

    The v1 bodies are ``hashedrekord`` 0.0.1 ProposedEntries (PEM key), the v2
    bodies ``hashedRekordRequestV002`` CreateEntryRequests (DER key).
    """
    started = time.perf_counter()
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(KEYS)]
    pems = [
        _b64(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        for key in keys
    ]
    ders = [
        _b64(
            key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        for key in keys
    ]
    algorithm = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
    prefix = f"lacre log_http benchmark {seed} {secrets.token_hex(8)} ".encode()
    v1: list[bytes] = []
    v2: list[bytes] = []
    for index in range(count):
        digest = hashlib.sha256(prefix + index.to_bytes(8, "big")).digest()
        which = index % KEYS
        signature = _b64(keys[which].sign(digest, algorithm))
        v1.append(
            json.dumps(
                {
                    "apiVersion": "0.0.1",
                    "kind": "hashedrekord",
                    "spec": {
                        "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                        "signature": {"content": signature, "publicKey": {"content": pems[which]}},
                    },
                },
                separators=(",", ":"),
            ).encode()
        )
        v2.append(
            json.dumps(
                {
                    "hashedRekordRequestV002": {
                        "digest": _b64(digest),
                        "signature": {
                            "content": signature,
                            "verifier": {
                                "publicKey": {"rawBytes": ders[which]},
                                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                            },
                        },
                    }
                },
                separators=(",", ":"),
            ).encode()
        )
    return Workload(v1, v2, time.perf_counter() - started)


# --- processes -----------------------------------------------------------------------


def process_cpu_s(pid: int, thread: int | None = None) -> float | None:
    """User plus system CPU seconds of process ``pid`` (or of one thread of it), from /proc."""
    stat = Path(f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def machine_busy_s() -> float | None:
    """CPU seconds all processes of the machine have used (every core), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[1:9])
    return (user + nice + system + irq + softirq + steal) / _CLK_TCK


def start_trivial(workdir: Path, kind: str) -> ServerProcess:
    """The trivial reference server (``asgi`` or ``fastapi``), this script in server mode."""
    command = [sys.executable, str(Path(__file__).resolve()), "--trivial-server", kind]
    return ServerProcess(f"trivial {kind}", command, server_env(), workdir / f"trivial-{kind}.log")


# --- the trivial reference servers ---------------------------------------------------

_Message = dict[str, Any]
_Receive = Callable[[], Awaitable[_Message]]
_Send = Callable[[_Message], Awaitable[None]]
_EMPTY_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"2")]


async def trivial_asgi(scope: _Message, receive: _Receive, send: _Send) -> None:
    """The smallest useful ASGI application: read the body, answer ``{}``."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body", False):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": _EMPTY_HEADERS})
    await send({"type": "http.response.body", "body": b"{}"})


def trivial_fastapi() -> Any:
    """A FastAPI application with one route shaped like lacre's: read the body, answer ``{}``."""
    app = fastapi.FastAPI()

    @app.post(V1_PATH)
    async def create(request: fastapi.Request) -> fastapi.Response:
        await request.body()
        return fastapi.responses.JSONResponse({})

    return app


def serve_trivial(kind: str) -> int:
    """Run a trivial server on a free port of 127.0.0.1, as ``lacre server`` runs uvicorn."""
    import uvicorn

    from lacre.apps.server.app import bind

    app: Any = trivial_fastapi() if kind == "fastapi" else trivial_asgi
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    print(f"trivial {kind} server ready at http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    server.run(sockets=[sock])
    return 0


# --- the HTTP client and the load runner ---------------------------------------------


@dataclass(frozen=True)
class Request:
    """One HTTP request: method, path and body."""

    method: str
    path: str
    body: bytes = b""


RequestSource = Callable[[], Request | None]
"""Hands out the next request, or None once there are no more."""


class ProtocolError(Exception):
    """The server's answer was not HTTP/1.1 as the client understands it."""


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Read one response: status, body and whether the server closes the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1."):
        raise ProtocolError(f"not an HTTP/1.x response: {head[:40]!r}")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lower.index(b"\r\n", at + 2)
        body = await reader.readexactly(int(head[at + 17 : end]))
    elif b"\r\ntransfer-encoding: chunked" in lower:
        body = await _read_chunked(reader)
    else:
        raise ProtocolError("response has neither Content-Length nor chunked encoding")
    return status, body, b"\r\nconnection: close" in lower


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def raw_request(request: Request, host: str) -> bytes:
    """The bytes of ``request`` on a keep-alive HTTP/1.1 connection."""
    if request.method == "GET":
        return f"GET {request.path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    head = (
        f"{request.method} {request.path} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(request.body)}\r\n\r\n"
    )
    return head.encode() + request.body


_TREE_SIZE = re.compile(rb'"treeSize":"?([0-9]+)')


def tree_size_of(answer: bytes) -> int | None:
    """The tree size of the inclusion proof in a Rekor v1 or v2 answer."""
    match = _TREE_SIZE.search(answer)
    return int(match.group(1)) if match else None


@dataclass
class _Load:
    """State shared by the workers of one load phase."""

    expect: int
    keep: int
    clients: int
    stop: bool = False
    window_start: float = math.inf
    window_end: float = math.inf
    started: set[int] = field(default_factory=set)
    ready: set[int] = field(default_factory=set)
    """Clients that have had an answer (or a failure) since all started sending."""
    past_window: set[int] = field(default_factory=set)
    connected: int = 0
    go_at: float = math.inf
    one_at_a_time: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    first_answer_s: float = 0.0
    """Longest a client waited for its first answer, from the moment all started sending."""
    go: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once every client has its connection: they all start sending together."""

    exhausted_at: float | None = None
    starts: array[float] = field(default_factory=lambda: array("d"))
    ends: array[float] = field(default_factory=lambda: array("d"))
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    kept: list[bytes] = field(default_factory=list)
    tree_sizes: set[int] = field(default_factory=set)
    """Tree sizes of the answers' inclusion proofs in the window: one per integrated batch."""

    def arrived(self) -> None:
        self.connected += 1
        if self.connected >= self.clients:
            self.go_at = time.perf_counter()
            self.go.set()

    def record(self, started: float, ended: float, status: int, body: bytes) -> None:
        if status != self.expect:
            self.error(str(status), body.decode(errors="replace")[:300])
            return
        self.starts.append(started)
        self.ends.append(ended)
        if self.window_start <= started <= self.window_end:
            if len(self.kept) < self.keep:
                self.kept.append(body)
            if self.keep and (size := tree_size_of(body)) is not None:
                self.tree_sizes.add(size)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < 3:
            self.error_samples.append(f"{kind}: {detail}")
        if sum(self.errors.values()) > _MAX_ERRORS:
            raise RuntimeError(
                f"too many failed requests: {dict(self.errors)}; {self.error_samples}"
            )

    def next_request(self, source: RequestSource, client: int) -> Request | None:
        """The next request for ``client``, or None once it should stop.

        After the window, clients go on loading the server (their requests are
        not counted) until every client has sent a request after the window's
        end: every request sent in the window is then answered under full load.
        """
        if self.stop:
            return None
        if client in self.started and client not in self.ready:
            self.ready.add(client)
            self.first_answer_s = max(self.first_answer_s, time.perf_counter() - self.go_at)
        self.started.add(client)
        if time.perf_counter() > self.window_end:
            self.crossed(client)
        request = source()
        if request is None:
            if self.exhausted_at is None:
                self.exhausted_at = time.perf_counter()
            self.crossed(client)
        return request

    def crossed(self, client: int) -> None:
        self.past_window.add(client)
        if len(self.past_window) >= self.clients:
            self.stop = True


async def _raw_worker(
    load: _Load, host: str, port: int, source: RequestSource, client: int
) -> None:
    """One client: a keep-alive connection, one request in flight at a time."""
    authority = f"{host}:{port}"
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    try:
        # Open the connection and use it once, one client after the other, while the
        # server is idle: a saturated server leaves new connections waiting for seconds.
        try:
            async with load.one_at_a_time:
                connection = await asyncio.open_connection(host, port)
                connection[1].write(
                    f"GET {PRIMING_PATH} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode()
                )
                await read_response(connection[0])
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            load.error("connection", repr(exc))
        load.arrived()
        await load.go.wait()
        while (request := load.next_request(source, client)) is not None:
            data = raw_request(request, authority)
            try:
                if connection is None:
                    connection = await asyncio.open_connection(host, port)
                reader, writer = connection
                started = time.perf_counter()
                writer.write(data)
                status, body, close = await read_response(reader)
                load.record(started, time.perf_counter(), status, body)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                load.error("connection", repr(exc))
                close = True
            if close and connection is not None:
                connection[1].close()
                connection = None
    finally:
        if connection is not None:
            connection[1].close()


async def _httpx_worker(
    load: _Load, pool: httpx.AsyncClient, source: RequestSource, client: int
) -> None:
    """One client sharing an httpx connection pool."""
    headers = {"Content-Type": "application/json"}
    load.arrived()
    await load.go.wait()
    while (request := load.next_request(source, client)) is not None:
        try:
            started = time.perf_counter()
            response = await pool.request(
                request.method, request.path, content=request.body, headers=headers
            )
            load.record(started, time.perf_counter(), response.status_code, response.content)
        except httpx.HTTPError as exc:
            load.error("connection", repr(exc))


@dataclass(frozen=True)
class LoadResult:
    """What one load phase measured (over its window, after the warm-up)."""

    requests: int
    window_s: float
    p50_s: float | None
    p99_s: float | None
    max_s: float | None
    errors: dict[str, int]
    error_samples: list[str]
    client_cpu_s: float
    server_cpu_s: float | None
    server_main_thread_cpu_s: float | None
    """CPU time of the server's main thread: the event loop (and all the request handling)."""
    database_cpu_s: float | None
    """CPU time of the database server's backends serving the lacre server (PostgreSQL)."""
    other_cpu_s: float | None
    """CPU time used meanwhile by every other process of the machine (a disturbance)."""
    exhausted: bool
    kept: list[bytes]
    batches: int
    """Distinct tree sizes in the answers to requests sent in the window (writes only)."""
    mean_in_flight: float
    """Requests waiting for their answer, on average over the window (Little's law check)."""
    first_answer_s: float
    """Longest a client waited for its first answer once all clients started sending."""

    @property
    def per_s(self) -> float:
        """Answers with the expected status per second."""
        return self.requests / self.window_s if self.window_s > 0 else 0.0

    def figures(self, prefix: str, unit: str) -> dict[str, Any]:
        """This result as JSON figures named ``<prefix>_...``."""
        per_request = 1000 / self.requests if self.requests else math.nan
        return {
            f"{prefix}_{unit}_per_s": round(self.per_s),
            f"{prefix}_p50_s": rounded(self.p50_s),
            f"{prefix}_p99_s": rounded(self.p99_s),
            f"{prefix}_max_s": rounded(self.max_s),
            f"{prefix}_requests": self.requests,
            f"{prefix}_window_s": round(self.window_s, 2),
            f"{prefix}_errors": self.errors,
            f"{prefix}_client_cpu_ms_per_request": rounded(self.client_cpu_s * per_request, 4),
            f"{prefix}_server_cpu_ms_per_request": rounded(
                None if self.server_cpu_s is None else self.server_cpu_s * per_request, 4
            ),
            f"{prefix}_client_cpu_share": round(self.client_cpu_s / self.window_s, 3),
            f"{prefix}_server_cpu_share": rounded(
                None if self.server_cpu_s is None else self.server_cpu_s / self.window_s, 3
            ),
            f"{prefix}_server_main_thread_cpu_share": rounded(
                None
                if self.server_main_thread_cpu_s is None
                else self.server_main_thread_cpu_s / self.window_s,
                3,
            ),
            f"{prefix}_other_cpu_share": rounded(
                None if self.other_cpu_s is None else self.other_cpu_s / self.window_s, 3
            ),
            f"{prefix}_mean_in_flight": round(self.mean_in_flight, 1),
            f"{prefix}_first_answer_max_s": round(self.first_answer_s, 3),
            f"{prefix}_pool_exhausted": self.exhausted,
            **(
                {f"{prefix}_database_cpu_share": round(self.database_cpu_s / self.window_s, 3)}
                if self.database_cpu_s is not None
                else {}
            ),
            **(
                {f"{prefix}_mean_batch": round(self.requests / self.batches, 1)}
                if self.batches
                else {}
            ),
        }

    def describe(self, unit: str) -> str:
        """One progress line."""
        server = "?" if self.server_cpu_s is None else f"{self.server_cpu_s / self.window_s:.2f}"
        if self.server_main_thread_cpu_s is not None:
            server += f" (main thread {self.server_main_thread_cpu_s / self.window_s:.2f})"
        text = (
            f"{self.per_s:,.0f} {unit}/s over {self.window_s:.1f} s; "
            f"p50 {_ms(self.p50_s)}, p99 {_ms(self.p99_s)}, max {_ms(self.max_s)}; "
            f"CPU cores used: client {self.client_cpu_s / self.window_s:.2f}, server {server}"
        )
        if self.database_cpu_s is not None:
            text += f", database {self.database_cpu_s / self.window_s:.2f}"
        if self.other_cpu_s is not None and self.other_cpu_s / self.window_s > _BUSY_WARNING:
            text += f", OTHER PROCESSES {self.other_cpu_s / self.window_s:.2f}"
        if self.batches:
            text += f"; {self.requests / self.batches:.0f} entries per integrated batch"
        text += (
            f"; {self.mean_in_flight:.0f} in flight; "
            f"slowest first answer {self.first_answer_s:.1f} s"
        )
        if self.errors:
            text += f"; FAILED {dict(self.errors)}: {self.error_samples}"
        if self.exhausted:
            text += "; request pool exhausted (the phase ended early)"
        return text


def _ms(value: float | None) -> str:
    return "?" if value is None else f"{value * 1000:.0f} ms"


@dataclass(frozen=True)
class LoadSpec:
    """One load phase: where, what, how many clients, for how long."""

    host: str
    port: int
    source: RequestSource
    expect: int
    clients: int
    warmup_s: float
    duration_s: float
    server_pid: int | None = None
    client: str = "raw"
    keep: int = 0
    on_window: Callable[[float], None] | None = None
    """Called as the measured window opens, with its planned length."""
    database_pids: Callable[[], list[int]] | None = None
    """The processes of the database server working for the server under test."""
    settle: bool = True
    """Keep loading the server after the window until every request sent in it is answered
    (False: stop sending at once, and answers to the last requests come faster)."""


async def _load(spec: LoadSpec) -> LoadResult:
    load = _Load(spec.expect, spec.keep, spec.clients)
    client: httpx.AsyncClient | None = None
    if spec.client == "httpx":
        limits = httpx.Limits(max_connections=spec.clients, max_keepalive_connections=spec.clients)
        client = httpx.AsyncClient(
            base_url=f"http://{spec.host}:{spec.port}", limits=limits, timeout=60
        )
        workers = [_httpx_worker(load, client, spec.source, n) for n in range(spec.clients)]
    else:
        workers = [
            _raw_worker(load, spec.host, spec.port, spec.source, n) for n in range(spec.clients)
        ]
    everything = asyncio.gather(*workers)
    try:
        await asyncio.wait_for(load.go.wait(), _READY_TIMEOUT_S)
        await asyncio.wait([everything], timeout=spec.warmup_s)
        # The window opens only once every client has had an answer: under saturation
        # some clients wait far longer than others for their first one.
        deadline = time.perf_counter() + _READY_TIMEOUT_S
        while spec.settle and len(load.ready) < spec.clients and not everything.done():
            if time.perf_counter() > deadline:
                raise RuntimeError(
                    f"only {len(load.ready)} of {spec.clients} clients had an answer "
                    f"{_READY_TIMEOUT_S + spec.warmup_s:.0f} s into the warm-up"
                )
            await asyncio.wait([everything], timeout=0.05)
        if everything.done():
            everything.result()
            raise RuntimeError("the request pool ran out during the warm-up; raise --entries")
        database = _Processes(spec.database_pids() if spec.database_pids else [])
        window_start = load.window_start = time.perf_counter()
        client_cpu, server_cpu = time.process_time(), _server_cpu(spec.server_pid)
        main_cpu = _server_cpu(spec.server_pid, main_thread=True)
        busy = machine_busy_s()
        if spec.on_window is not None:
            spec.on_window(spec.duration_s)
        await asyncio.wait([everything], timeout=spec.duration_s)
        window_end = load.window_end = load.exhausted_at or time.perf_counter()
        client_cpu = time.process_time() - client_cpu
        server_end = _server_cpu(spec.server_pid)
        main_end = _server_cpu(spec.server_pid, main_thread=True)
        database_used = database.used() if spec.database_pids else None
        busy_end = machine_busy_s()
        load.stop = not spec.settle
        await everything
    finally:
        if not everything.done():
            everything.cancel()
        if client is not None:
            await client.aclose()
    server_used = None if server_cpu is None or server_end is None else server_end - server_cpu
    other = None
    if busy is not None and busy_end is not None and server_used is not None:
        other = max(0.0, busy_end - busy - client_cpu - server_used - (database_used or 0.0))
    starts, ends = load.starts, load.ends
    answered = sum(1 for end in ends if window_start <= end <= window_end)
    latencies = sorted(
        end - start
        for start, end in zip(starts, ends, strict=True)
        if window_start <= start <= window_end
    )
    return LoadResult(
        requests=answered,
        window_s=window_end - window_start,
        p50_s=quantile(latencies, 0.50),
        p99_s=quantile(latencies, 0.99),
        max_s=latencies[-1] if latencies else None,
        errors=dict(load.errors),
        error_samples=load.error_samples,
        client_cpu_s=client_cpu,
        server_cpu_s=server_used,
        server_main_thread_cpu_s=None
        if main_cpu is None or main_end is None
        else main_end - main_cpu,
        database_cpu_s=database_used,
        other_cpu_s=other,
        exhausted=load.exhausted_at is not None,
        kept=load.kept,
        batches=len(load.tree_sizes),
        mean_in_flight=sum(
            max(0.0, min(end, window_end) - max(start, window_start))
            for start, end in zip(starts, ends, strict=True)
        )
        / max(window_end - window_start, 1e-9),
        first_answer_s=load.first_answer_s,
    )


class _Processes:
    """CPU time used by a set of processes since this object was made."""

    def __init__(self, pids: list[int]) -> None:
        self._start = {pid: process_cpu_s(pid) for pid in pids}

    def used(self) -> float:
        total = 0.0
        for pid, start in self._start.items():
            end = process_cpu_s(pid)
            if start is not None and end is not None:
                total += end - start
        return total


def _server_cpu(pid: int | None, *, main_thread: bool = False) -> float | None:
    if pid is None:
        return None
    return process_cpu_s(pid, pid if main_thread else None)


def run_load(spec: LoadSpec) -> LoadResult:
    """Run one load phase on a fresh event loop (uvloop when available)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_load(spec))
    return uvloop.run(_load(spec))


def pool_source(requests: Iterator[Request]) -> RequestSource:
    """A source handing out ``requests`` once each."""
    return lambda: next(requests, None)


def posts(path: str, bodies: Sequence[bytes], *, cycle: bool = False) -> RequestSource:
    """POST each body to ``path`` once (or round and round with ``cycle``)."""
    chosen = itertools.cycle(bodies) if cycle else iter(bodies)
    return pool_source(Request("POST", path, body) for body in chosen)


# --- checks of the answers -------------------------------------------------------------


def check_v1_answers(answers: list[bytes], key: PublicKey) -> int:
    """Check the inclusion proof and SET of each Rekor v1 answer; return how many passed."""
    for answer in answers:
        ((_, entry),) = json.loads(answer).items()
        body = base64.b64decode(entry["body"])
        proof = entry["verification"]["inclusionProof"]
        merkle.verify_inclusion(
            merkle.leaf_hash(body),
            proof["logIndex"],
            proof["treeSize"],
            [bytes.fromhex(node) for node in proof["hashes"]],
            bytes.fromhex(proof["rootHash"]),
        )
        verify_inclusion_promise(
            key,
            base64.b64decode(entry["verification"]["signedEntryTimestamp"]),
            body=body,
            integrated_time=entry["integratedTime"],
            log_id=bytes.fromhex(entry["logID"]),
            log_index=entry["logIndex"],
        )
    return len(answers)


def check_v2_answers(answers: list[bytes]) -> int:
    """Check the inclusion proof of each Rekor v2 answer; return how many passed."""
    for answer in answers:
        entry = json.loads(answer)
        proof = entry["inclusionProof"]
        merkle.verify_inclusion(
            merkle.leaf_hash(base64.b64decode(entry["canonicalizedBody"])),
            int(proof["logIndex"]),
            int(proof["treeSize"]),
            [base64.b64decode(node) for node in proof["hashes"]],
            base64.b64decode(proof["rootHash"]),
        )
    return len(answers)


# --- profiling -----------------------------------------------------------------------

CATEGORIES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in [
        ("search keys of the entry (index_keys)", r"index_keys \(lacre/rekor/kinds/"),
        ("request signature verification (ECDSA)", r"verify_digest \(lacre/keys/"),
        ("SET signing (ECDSA, JCS)", r"(^|\.)sign_set \(lacre/rekor/set"),
        ("checkpoint signing (ECDSA)", r"sign_checkpoint \(lacre/|Appender\._sign "),
        (
            "request key parsing (PEM/DER, canonical PEM)",
            r"(^|\.)(from_bytes|from_key|_from_der|from_pem|from_der|parse_verifier) \(lacre/",
        ),
        ("inclusion proof", r"inclusion_proof \(lacre/"),
        ("storage (SQL, commit)", r"\(lacre/tlog/storage/"),
        ("Merkle integration (hashing, tiles)", r"\(lacre/tlog/integrate"),
        ("appender (batching, futures)", r"\(lacre/tlog/(appender|log)\.py"),
        ("entry checks and canonical body (JCS)", r"\(lacre/rekor/kinds/"),
        (
            "request body read (Starlette stream) and JSON parsing",
            r"(^|\.)(read_json|read_body) \(lacre/apps/http",
        ),
        (
            "answer building and JSON encoding",
            r"\(lacre/rekor/v[12]\.py|\(lacre/transparency/(note|checkpoint)|JSONResponse\.",
        ),
        ("tile reads", r"\(lacre/tlog/reader|\(lacre/apps/tlog/"),
        ("other lacre code", r"\(lacre/(?!cli/|__main__|apps/server/app)"),
    ]
]
"""What lacre's own code spends a sample on: the first category (in this order) that
matches any frame of the sample's stack (so ``index_keys`` includes the key parsing it
repeats, and ``sign_set`` the JCS it signs)."""

LAYERS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in [
        (
            "FastAPI/Starlette/AnyIO (routing, middleware, responses, thread pool)",
            r"\((fastapi|starlette|anyio)/",
        ),
        ("uvicorn HTTP protocol (parsing, socket writes)", r"\(uvicorn/(protocols|middleware)/"),
        ("event loop (uvloop, asyncio, future wake-ups)", r"\((asyncio|uvloop)/"),
    ]
]
"""Samples outside lacre's code go to the layer of their deepest frame. Every sample of the
event loop thread has start-up frames (``uvicorn/server.py``, ``asyncio/runners.py``) at
its root, which the patterns skip or which only the deepest-frame rule reaches last."""


def record_profile(pyspy: str, pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """Start py-spy sampling process ``pid`` (every thread) for ``seconds`` into ``output``."""
    return subprocess.Popen(
        [
            pyspy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, int(seconds))),
            "--rate",
            str(_PROFILE_RATE),
            "--format",
            "raw",
            "--threads",
            "--function",
            "--nonblocking",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^()]*)\)$")


def summarize_profile(collapsed: Path, seconds: float, top: int = 25) -> dict[str, Any]:
    """Where the server's threads spent the window: by category, by thread, by own function.

    Samples of threads waiting for work (a condition, a queue, a join) are dropped;
    what remains is time a thread was running, or ready to run and waiting for the
    GIL or a core. Categories and own functions are given for the main thread (the
    event loop, which bounds the server) and for all threads together.
    """
    main: Counter[str] = Counter()
    every: Counter[str] = Counter()
    by_thread: Counter[str] = Counter()
    by_leaf: Counter[str] = Counter()
    waiting = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = _thread_name(frames[0])
        calls = [frame for frame in frames[1:] if _FRAME.match(frame)]
        if calls and _WAITING.search(calls[-1]):
            waiting += count
            continue
        category = _category(calls)
        by_thread[thread] += count
        every[category] += count
        if thread == "MainThread":
            main[category] += count
            by_leaf[calls[-1] if calls else thread] += count
    if not every:
        return {"samples": 0}
    possible = _PROFILE_RATE * seconds

    def shares(counter: Counter[str], limit: int | None = None) -> list[tuple[str, float]]:
        """Largest first, as pairs: the JSON output sorts object keys."""
        total = sum(counter.values()) or 1
        return [(name, round(n / total, 4)) for name, n in counter.most_common(limit)]

    return {
        "samples": sum(every.values()),
        "waiting_samples_dropped": waiting,
        "rate_hz": _PROFILE_RATE,
        "seconds": round(seconds, 1),
        "threads_busy": [(name, round(n / possible, 2)) for name, n in by_thread.most_common()],
        "main_thread_by_category": shares(main),
        "all_threads_by_category": shares(every),
        "main_thread_top_own_functions": shares(by_leaf, top),
    }


_WAITING = re.compile(
    r"^(Condition\.wait|Event\.wait|Thread\.join|Queue\.get|SimpleQueue\.get|_worker|"
    r"Semaphore\.acquire|_wait_for_tstate_lock|select|poll|epoll) "
)
"""Leaf frames of a thread that is waiting for work rather than doing it."""


def _thread_name(frame: str) -> str:
    """``thread (1234): MainThread`` -> ``MainThread``."""
    return frame.split("): ", 1)[-1]


def _category(calls: list[str]) -> str:
    for name, pattern in CATEGORIES:
        if any(pattern.search(frame) for frame in calls):
            return name
    for frame in reversed(calls):
        for name, pattern in LAYERS:
            if pattern.search(frame):
                return name
    return "other"


def find_pyspy() -> str:
    """The py-spy executable: next to this Python, or on the PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.is_file():
        return str(beside)
    found = shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile needs py-spy: pip install py-spy (into the venv)")
    return found


class Profiler:
    """Samples one server with py-spy during measured windows, if asked to (else does nothing)."""

    def __init__(self, directory: Path | None, pid: int) -> None:
        """Write collapsed stacks of process ``pid`` into ``directory`` (None: no profiling)."""
        self.directory = directory
        self.pid = pid
        self._running: tuple[str, subprocess.Popen[bytes], float, Path] | None = None

    def start(self, name: str) -> Callable[[float], None] | None:
        """A window callback that starts sampling into ``<directory>/<name>.txt``."""
        directory = self.directory
        if directory is None:
            return None

        def begin(seconds: float) -> None:
            directory.mkdir(parents=True, exist_ok=True)
            output = directory / f"{name}.txt"
            process = record_profile(find_pyspy(), self.pid, seconds, output)
            self._running = (name, process, seconds, output)

        return begin

    def finish(self) -> dict[str, Any]:
        """Wait for the sampling started last; its summary as ``profile_<name>``."""
        if self._running is None:
            return {}
        name, process, seconds, output = self._running
        self._running = None
        _, errors = process.communicate(timeout=seconds + 60)
        if process.returncode != 0:
            raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace')[-500:]}")
        summary = summarize_profile(output, seconds)
        busy = ", ".join(f"{name} {share:.2f}" for name, share in summary.get("threads_busy", []))
        say(f"  profile of the server (py-spy): {output}; threads busy: {busy}")
        say("  main thread (event loop):")
        for category, share in summary.get("main_thread_by_category", []):
            say(f"    {share:6.1%}  {category}")
        return {f"profile_{name}": summary}


# --- the phases ----------------------------------------------------------------------


def reference_phases(settings: Settings, workdir: Path, workload: Workload) -> dict[str, Any]:
    """The trivial uvicorn endpoint (raw client, then httpx) and a trivial FastAPI route."""
    figures: dict[str, Any] = {}
    with start_trivial(workdir, "asgi") as server:
        say(f"reference: trivial ASGI app under uvicorn, {settings.clients} clients")
        result = run_load(
            LoadSpec(
                server.host,
                server.port,
                posts(V1_PATH, workload.v1_bodies, cycle=True),
                200,
                settings.clients,
                settings.warmup_s,
                settings.reference_s,
                server.pid,
            )
        )
        say(f"  raw client: {result.describe('requests')}")
        _require_clean(result, "the trivial endpoint")
        figures.update(result.figures("uvicorn_trivial", "requests"))
        if settings.compare_httpx:
            result = run_load(
                LoadSpec(
                    server.host,
                    server.port,
                    posts(V1_PATH, workload.v1_bodies, cycle=True),
                    200,
                    settings.clients,
                    settings.warmup_s,
                    settings.reference_s,
                    server.pid,
                    client="httpx",
                    settle=False,
                )
            )
            # Only a reference for the client's cost: its own failures (httpx reusing a
            # connection uvicorn closed after 5 s idle) are recorded, not fatal.
            say(f"  httpx client: {result.describe('requests')}")
            figures.update(result.figures("httpx_uvicorn_trivial", "requests"))
    with start_trivial(workdir, "fastapi") as server:
        say("reference: trivial FastAPI route under uvicorn")
        result = run_load(
            LoadSpec(
                server.host,
                server.port,
                posts(V1_PATH, workload.v1_bodies, cycle=True),
                200,
                settings.clients,
                settings.warmup_s,
                settings.reference_s,
                server.pid,
            )
        )
        say(f"  {result.describe('requests')}")
        _require_clean(result, "the trivial FastAPI route")
        figures.update(result.figures("fastapi_trivial", "requests"))
    return figures


def _require_clean(result: LoadResult, what: str) -> None:
    if result.errors:
        raise RuntimeError(f"{what}: failed requests {result.errors}: {result.error_samples}")
    if not result.requests:
        raise RuntimeError(f"{what}: no request was answered in the measured window")


def write_phase(
    settings: Settings,
    server: ServerProcess,
    path: str,
    bodies: list[bytes],
    duration_s: float,
    on_window: Callable[[float], None] | None = None,
    database_pids: Callable[[], list[int]] | None = None,
) -> LoadResult:
    """Post each body once, ``settings.clients`` at a time, expecting 201."""
    return run_load(
        LoadSpec(
            server.host,
            server.port,
            posts(path, bodies),
            201,
            settings.clients,
            settings.warmup_s,
            duration_s,
            server.pid,
            keep=VERIFIED_ANSWERS,
            on_window=on_window,
            database_pids=database_pids,
        )
    )


def sqlite_phases(settings: Settings, workdir: Path, workload: Workload) -> dict[str, Any]:
    """Rekor v1 and v2 writes, then tile reads, on one SQLite-backed server."""
    figures: dict[str, Any] = {}
    with start_lacre(workdir, "sqlite", "--workers", str(settings.workers)) as server:
        say(f"SQLite: {settings.clients} clients post Rekor v1 hashedrekord entries")
        profiler = Profiler(settings.profile, server.pid)
        result = write_phase(
            settings,
            server,
            V1_PATH,
            workload.v1_bodies,
            settings.write_s,
            profiler.start("sqlite"),
        )
        say(f"  {result.describe('entries')}")
        _require_clean(result, "SQLite v1 writes")
        figures.update(result.figures("sqlite", "entries"))
        figures.update(profiler.finish())
        key = PublicKey.from_pem(httpx.get(f"{server.url}/api/v1/log/publicKey").content)
        figures["sqlite_answers_verified"] = check_v1_answers(result.kept, key)
        if settings.v2:
            say("SQLite: Rekor v2 hashedrekord entries")
            result = write_phase(settings, server, V2_PATH, workload.v2_bodies, settings.v2_s)
            say(f"  {result.describe('entries')}")
            _require_clean(result, "SQLite v2 writes")
            figures.update(result.figures("sqlite_v2", "entries"))
            figures["sqlite_v2_answers_verified"] = check_v2_answers(result.kept)
        figures.update(tile_phase(settings, server, profiler))
    return figures


def tile_requests(url: str, seed: int) -> tuple[list[Request], list[Request]]:
    """Every full tile and every partial tile (hash tiles and entry bundles) of both logs."""
    full: list[Request] = []
    partial: list[Request] = []
    for prefix in ("", V1_LOG_PREFIX):
        checkpoint = httpx.get(f"{url}{prefix}/checkpoint").text
        size = int(checkpoint.split("\n")[1])
        for ref in tile_refs_for_size(size, entries=True):
            (partial if ref.is_partial else full).append(Request("GET", f"{prefix}/{ref.path()}"))
    random.Random(seed).shuffle(full)
    return full, partial


def tile_phase(settings: Settings, server: ServerProcess, profiler: Profiler) -> dict[str, Any]:
    """Random tile reads, half full tiles and half partial ones; then each kind alone."""
    full, partial = tile_requests(server.url, settings.seed)
    if not full:
        full = partial
    say(
        f"tiles: {settings.tile_clients} clients read random tiles "
        f"({len(full)} full, {len(partial)} partial; half the reads partial)"
    )
    rng = random.Random(settings.seed)

    def mixed(kind: str) -> RequestSource:
        def is_kind(request: Request) -> bool:
            return kind == "any" or (kind == "bundle") == ("/tile/entries/" in request.path)

        full_kind = [request for request in full if is_kind(request)]
        partial_kind = [request for request in partial if is_kind(request)] or full_kind
        return lambda: rng.choice(partial_kind if rng.random() < 0.5 else full_kind)

    figures: dict[str, Any] = {}
    for kind, prefix, seconds in [
        ("any", "tile", settings.tiles_s),
        ("hash", "tile_hash", settings.tiles_s / 2),
        ("bundle", "tile_bundle", settings.tiles_s / 2),
    ]:
        result = run_load(
            LoadSpec(
                server.host,
                server.port,
                mixed(kind),
                200,
                settings.tile_clients,
                settings.warmup_s,
                seconds,
                server.pid,
                on_window=profiler.start("tiles") if kind == "any" else None,
            )
        )
        label = {"any": "tiles and bundles", "hash": "hash tiles only", "bundle": "bundles only"}
        say(f"  {label[kind]}: {result.describe('reads')}")
        _require_clean(result, f"tile reads ({label[kind]})")
        figures.update(result.figures(prefix, "reads"))
        figures.update(profiler.finish())
    figures["tile_full_tiles"] = len(full)
    figures["tile_partial_tiles"] = len(partial)
    return figures


def backend_pids(admin_dsn: str, database: str) -> list[int]:
    """Process IDs of the PostgreSQL backends connected to ``database``."""
    with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchall()
    return [int(row[0]) for row in rows]


def postgres_phase(settings: Settings, workdir: Path, workload: Workload) -> dict[str, Any]:
    """Rekor v1 writes on a server storing its logs in a fresh PostgreSQL database."""
    figures: dict[str, Any] = {}
    with postgres_server(say) as (postgres, origin):
        name = f"lacre_http_bench_{secrets.token_hex(4)}"
        dsn = postgres.create_database(name)
        figures["postgres_server"] = origin
        try:
            with start_lacre(
                workdir, "postgres", "--postgres", dsn, "--workers", str(settings.workers)
            ) as server:
                say(f"PostgreSQL: {settings.clients} clients post Rekor v1 entries")
                result = write_phase(
                    settings,
                    server,
                    V1_PATH,
                    workload.v1_bodies,
                    settings.postgres_s,
                    database_pids=lambda: backend_pids(postgres.dsn, name),
                )
                say(f"  {result.describe('entries')}")
                _require_clean(result, "PostgreSQL v1 writes")
                figures.update(result.figures("postgres", "entries"))
                key = PublicKey.from_pem(httpx.get(f"{server.url}/api/v1/log/publicKey").content)
                figures["postgres_answers_verified"] = check_v1_answers(result.kept, key)
        finally:
            postgres.drop_database(name)
    return figures


def run(settings: Settings) -> dict[str, Any]:
    """Run every phase; return the figures."""
    figures: dict[str, Any] = {
        "benchmark": "log_http",
        "quick": settings.quick,
        "clients": settings.clients,
        "tile_clients": settings.tile_clients,
        "client": "asyncio streams (uvloop), raw keep-alive HTTP/1.1, one connection per client",
        **machine(),
        "durations_s": {
            "warmup": settings.warmup_s,
            "sqlite": settings.write_s,
            "sqlite_v2": settings.v2_s,
            "postgres": settings.postgres_s,
            "tiles": settings.tiles_s,
            "references": settings.reference_s,
        },
    }
    say(f"signing {settings.entries:,} distinct artifact digests with {KEYS} P-256 keys")
    workload = build_workload(settings.entries, settings.seed)
    figures["entries_pool"] = settings.entries
    figures["server_workers"] = settings.workers
    figures["pregeneration_s"] = round(workload.seconds, 2)
    figures["v1_request_bytes"] = round(sum(map(len, workload.v1_bodies)) / settings.entries)
    say(f"  done in {workload.seconds:.1f} s")
    with tempfile.TemporaryDirectory(prefix="lacre-http-bench-") as tmp:
        workdir = Path(tmp)
        figures.update(reference_phases(settings, workdir, workload))
        figures.update(sqlite_phases(settings, workdir, workload))
        if settings.postgres:
            figures.update(postgres_phase(settings, workdir, workload))
        else:
            figures["postgres_entries_per_s"] = figures["postgres_p99_s"] = None
    figures.setdefault("sqlite_v2_entries_per_s", None)
    figures["sqlite_uvicorn_trivial_ratio"] = round(
        figures["sqlite_entries_per_s"] / figures["uvicorn_trivial_requests_per_s"], 4
    )
    figures["sqlite_fastapi_trivial_ratio"] = round(
        figures["sqlite_entries_per_s"] / figures["fastapi_trivial_requests_per_s"], 4
    )
    others = [value for key, value in figures.items() if key.endswith("_other_cpu_share")]
    figures["max_other_cpu_share"] = max((v for v in others if v is not None), default=None)
    figures["references"] = REFERENCES
    figures["targets"] = TARGETS
    figures["pass"] = judge(figures, TARGETS, _AT_MOST)
    return figures


def parse_args(argv: Sequence[str] | None) -> Settings:
    """Command-line options to settings."""
    parser = argument_parser(__doc__)
    parser.add_argument("--entries", type=int, help="signed requests generated before timing")
    parser.add_argument("--duration", type=float, help="seconds of each write phase")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up before each window")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent writers")
    parser.add_argument("--tile-clients", type=int, default=TILE_CLIENTS, help="tile readers")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL phase")
    parser.add_argument("--no-v2", action="store_true", help="skip the Rekor v2 phase")
    parser.add_argument(
        "--no-compare-httpx", action="store_true", help="skip the httpx client reference"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample the server with py-spy during the SQLite v1 and tile windows; "
        "collapsed stacks into DIR",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of tile choice")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="lacre server processes (default 2: one per core of the reference machine)",
    )
    parser.add_argument("--trivial-server", choices=["asgi", "fastapi"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.trivial_server:
        raise SystemExit(serve_trivial(args.trivial_server))
    quick: bool = args.quick
    write_s: float = args.duration or (5.0 if quick else 20.0)
    if min(args.clients, args.tile_clients) < 1:
        parser.error("--clients and --tile-clients must be at least 1")
    return Settings(
        quick=quick,
        entries=sizes(parser, quick, minimum=1)(args.entries, 40_000, 150_000),
        warmup_s=args.warmup if args.warmup is not None else (1.0 if quick else 3.0),
        write_s=write_s,
        v2_s=write_s * (0.6 if quick else 1),
        postgres_s=write_s,
        tiles_s=2.0 if quick else 10.0,
        reference_s=2.0 if quick else 10.0,
        clients=args.clients,
        tile_clients=args.tile_clients,
        postgres=not args.no_postgres,
        v2=not args.no_v2,
        compare_httpx=not args.no_compare_httpx,
        profile=args.profile.resolve() if args.profile else None,
        seed=args.seed,
        workers=args.workers,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the figures as the last line of stdout."""
    settings = parse_args(argv)
    return report(lambda: run(settings))


if __name__ == "__main__":
    raise SystemExit(main())
