"""HTTP benchmark of the timestamp authority of ``lacre server --dev``.

Usage::

    python benchmarks/tsa.py --quick          # under a minute
    python benchmarks/tsa.py                  # longer phases
    python benchmarks/tsa.py --workers 1      # one server process (default: two, one per core)

32 concurrent clients, each on its own keep-alive HTTP/1.1 connection, ask a
``lacre server --dev`` (started as a subprocess on a fresh data directory) for
timestamps over distinct SHA-256 digests and wait for each answer before
sending the next request. Two phases, in order:

1. **DER**: ``application/timestamp-query`` requests with a nonce and certReq,
   as sigstore-python sends them (the headline figure, ``timestamps_per_s``).
2. **JSON**: the form sigstore-js sends (``{"artifactHash", "hashAlgorithm"}``).

Requests are built before any timing. Each phase runs for a fixed window after
an uncounted warm-up; throughput counts the 200 answers received in the
window, latency covers the requests sent in it. A sample of answers is then
verified with ``rfc3161-client`` against the chain the server publishes.

The server must mount the TSA routes (``lacre.apps.tsa.routes.tsa_router``)
with the fast path in front of them (``lacre.apps.direct.DirectPosts``);
without them the benchmark stops at once, saying the server does not serve
the TSA.

Human-readable progress goes to stderr; the last line of stdout is one JSON
object with every figure.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import rfc3161_client
from _common import (
    ServerProcess,
    argument_parser,
    judge,
    machine,
    quantile,
    report,
    rounded,
    say,
    start_lacre,
)
from asn1crypto import tsp
from cryptography import x509
from log_http import ProtocolError, read_response

from lacre.tsa import DEFAULT_POLICY

TARGETS: dict[str, float] = {"timestamps_per_s": 2_000, "p99_s": 0.25}
"""What the server should reach on 2 cores."""
_AT_MOST = frozenset({"p99_s"})
PATH = "/api/v1/timestamp"
CLIENTS = 32
POOL = 4096
"""Distinct requests of each form, sent round and round."""
VERIFIED = 50
"""Answers of each phase verified with rfc3161-client."""
_MAX_ERRORS = 100


@dataclass(frozen=True)
class Settings:
    """Durations and sizes of one run."""

    quick: bool
    warmup_s: float
    duration_s: float
    clients: int
    workers: int


def der_request(digest: bytes) -> bytes:
    """A DER TimeStampReq for a SHA-256 digest, nonce and certReq, as sigstore-python sends."""
    return bytes(
        tsp.TimeStampReq(
            {
                "version": 1,
                "message_imprint": {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "hashed_message": digest,
                },
                "nonce": secrets.randbits(63),
                "cert_req": True,
            }
        ).dump()
    )


def json_request(digest: bytes) -> bytes:
    """The JSON body sigstore-js sends."""
    body = {"artifactHash": base64.b64encode(digest).decode(), "hashAlgorithm": "sha256"}
    return json.dumps(body).encode()


def raw_post(path: str, host: str, content_type: str, body: bytes) -> bytes:
    """The bytes of a POST on a keep-alive HTTP/1.1 connection."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class Phase:
    """What the clients of one phase share and record."""

    requests: list[bytes]
    duration_s: float
    warmup_s: float
    next: int = 0
    window_start: float = math.inf
    window_end: float = math.inf
    stop: bool = False
    samples: list[tuple[float, float]] = field(default_factory=list)
    kept: list[tuple[bytes, bytes]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)

    def take(self) -> bytes:
        request = self.requests[self.next % len(self.requests)]
        self.next += 1
        return request

    def record(self, started: float, ended: float, status: int, body: bytes, sent: bytes) -> None:
        if status != 200:
            self.errors[str(status)] += 1
            if len(self.error_samples) < 3:
                self.error_samples.append(f"{status}: {body[:200]!r}")
            if sum(self.errors.values()) > _MAX_ERRORS:
                raise RuntimeError(f"too many failed requests: {self.error_samples}")
            return
        self.samples.append((started, ended))
        if self.window_start <= started and len(self.kept) < VERIFIED:
            self.kept.append((sent, body))


async def client(phase: Phase, host: str, port: int) -> None:
    """One client: a keep-alive connection, one request in flight at a time."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while not phase.stop:
            data = phase.take()
            started = time.perf_counter()
            writer.write(data)
            status, body, close = await read_response(reader)
            phase.record(started, time.perf_counter(), status, body, data)
            if close:
                raise ProtocolError("the server closed a keep-alive connection")
    finally:
        writer.close()


async def run_phase(phase: Phase, host: str, port: int, clients: int) -> None:
    """Warm up, then measure for ``phase.duration_s``."""
    everything = asyncio.gather(*(client(phase, host, port) for _ in range(clients)))
    await asyncio.wait([everything], timeout=phase.warmup_s)
    phase.window_start = time.perf_counter()
    await asyncio.wait([everything], timeout=phase.duration_s)
    phase.window_end = time.perf_counter()
    phase.stop = True
    await everything


def figures(phase: Phase, prefix: str) -> dict[str, Any]:
    """Throughput and latency quantiles of ``phase``."""
    window = phase.window_end - phase.window_start
    answered = sum(1 for _, end in phase.samples if phase.window_start <= end <= phase.window_end)
    latencies = sorted(
        end - start
        for start, end in phase.samples
        if phase.window_start <= start <= phase.window_end
    )

    return {
        f"{prefix}timestamps_per_s": round(answered / window) if window > 0 else 0,
        f"{prefix}p50_s": rounded(quantile(latencies, 0.50)),
        f"{prefix}p99_s": rounded(quantile(latencies, 0.99)),
        f"{prefix}max_s": round(latencies[-1], 4) if latencies else None,
        f"{prefix}requests": answered,
        f"{prefix}window_s": round(window, 2),
        f"{prefix}errors": dict(phase.errors),
    }


def verify_sample(phase: Phase, chain: list[x509.Certificate], digests: dict[bytes, bytes]) -> int:
    """Verify the kept answers with rfc3161-client; return how many verified."""
    verifier = (
        rfc3161_client.VerifierBuilder()
        .tsa_certificate(chain[0])
        .add_root_certificate(chain[-1])
        .policy_id(x509.ObjectIdentifier(DEFAULT_POLICY))
        .build()
    )
    for sent, answer in phase.kept:
        body = sent.split(b"\r\n\r\n", 1)[1]
        response = rfc3161_client.decode_timestamp_response(answer)
        verifier.verify(response, digests[body])
    return len(phase.kept)


def build_pools(host: str) -> tuple[dict[str, list[bytes]], dict[bytes, bytes]]:
    """The raw requests of each phase, and the digest each body asks about."""
    pools: dict[str, list[bytes]] = {"der": [], "json": []}
    digests: dict[bytes, bytes] = {}
    for _ in range(POOL):
        for form, make, content_type in (
            ("der", der_request, "application/timestamp-query"),
            ("json", json_request, "application/json"),
        ):
            digest = hashlib.sha256(secrets.token_bytes(32)).digest()
            body = make(digest)
            digests[body] = digest
            pools[form].append(raw_post(PATH, host, content_type, body))
    return pools, digests


def run(settings: Settings) -> dict[str, Any]:
    """Start the server, run both phases, verify samples, return every figure."""
    results: dict[str, Any] = {
        "quick": settings.quick,
        "clients": settings.clients,
        "server_workers": settings.workers,
        **machine(),
    }
    with tempfile.TemporaryDirectory(prefix="lacre-bench-tsa-") as workdir:
        extra = ("--workers", str(settings.workers)) if settings.workers > 1 else ()
        server: ServerProcess = start_lacre(Path(workdir), "tsa", *extra)
        with server:
            say(f"server ready at {server.url}")
            chain_answer = httpx.get(f"{server.url}{PATH}/certchain", timeout=10)
            if chain_answer.status_code != 200:
                raise RuntimeError(
                    f"the server does not serve the TSA: GET {PATH}/certchain answered "
                    f"{chain_answer.status_code}"
                )
            chain = x509.load_pem_x509_certificates(chain_answer.content)
            authority = f"{server.host}:{server.port}"
            pools, digests = build_pools(authority)
            for form, prefix in (("der", ""), ("json", "json_")):
                phase = Phase(pools[form], settings.duration_s, settings.warmup_s)
                say(f"{form} phase: {settings.clients} clients, {settings.duration_s:.0f} s")
                asyncio.run(run_phase(phase, server.host, server.port, settings.clients))
                figures_ = figures(phase, prefix)
                say(
                    f"{form}: {figures_[f'{prefix}timestamps_per_s']:,}/s, p50 "
                    f"{figures_[f'{prefix}p50_s']} s, p99 {figures_[f'{prefix}p99_s']} s, "
                    f"errors {dict(phase.errors)}"
                )
                results.update(figures_)
                results[f"{prefix or 'der_'}verified"] = verify_sample(phase, chain, digests)
    results["targets"] = TARGETS
    results["met"] = judge(results, TARGETS, _AT_MOST)
    return results


def parse_args(argv: Sequence[str] | None) -> Settings:
    """Command-line options."""
    parser = argument_parser(__doc__, "short phases (under a minute)")
    parser.add_argument("--duration", type=float, help="seconds measured per phase")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--workers", type=int, default=2, help="server processes (one per core)")
    options = parser.parse_args(argv)
    duration = options.duration or (10.0 if options.quick else 30.0)
    return Settings(
        quick=options.quick,
        warmup_s=2.0 if options.quick else 5.0,
        duration_s=duration,
        clients=options.clients,
        workers=options.workers,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the figures as the last line of stdout."""
    settings = parse_args(argv)
    failures = (RuntimeError, OSError, ProtocolError, httpx.HTTPError)
    return report(lambda: run(settings), failures=failures, verdicts="met")


if __name__ == "__main__":
    sys.exit(main())
