"""End-to-end keyless signing against ``lacre server --dev``: lacre's client and sigstore-python.

Usage::

    python benchmarks/e2e_sign.py --quick      # under a minute
    python benchmarks/e2e_sign.py              # longer phases

One complete signing is: an ephemeral key and a certificate (with its SCT,
checked) from the CA for an identity token, the artifact's signature, a log
entry, an RFC 3161 timestamp, and the Sigstore bundle built in memory. The
tokens are minted before timing (one per signer, valid for the whole run).

32 signers (``--signers``) run at once, as threads spread over several client
processes (``--processes``, default 4) so that the clients' Python work is not
confined to one core; they share the two cores with the server (``--workers``,
default 2), as they would on a developer's machine. Two phases run against the
same server, in order: lacre's client (``lacre.sign.SigningContext``, the code
behind ``lacre sign-blob``) and sigstore-python's (``sigstore.sign.SigningContext``
built from the server's ``trust_config.json``). Both use the log the signing
config prefers (Rekor v2) and the TSA; the log entry kinds are reported.

Every phase runs for a fixed time after a warm-up that is not counted;
throughput counts the signings completed in the window, latency those started
in it. The bundles of the last signing of each signer are verified afterwards
with ``lacre.verify`` (the identity and issuer of the token). Request logging
of the server is off (``--log-level warning``), as in the other benchmarks.

Human-readable progress goes to stderr; the last line of stdout is one JSON
object with every figure (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
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

SIGNERS = 32
PROCESSES = 4
TARGETS = {"lacre_signings_per_s": 200.0}
EMAIL = "bench@example.com"


@dataclass(frozen=True)
class Phase:
    """What one client process runs: which client, how many signers, when."""

    client: str
    threads: int
    start_at: float
    end_at: float
    trust_config: str
    tokens: tuple[str, ...]


@dataclass
class Outcome:
    """What one client process measured."""

    completed: int
    latencies: list[float]
    errors: dict[str, int]
    last_bundles: list[tuple[bytes, bytes]]
    kinds: list[str]


def lacre_signer(trust_config: str) -> Callable[[str, bytes], tuple[bytes, str]]:
    """A function signing ``data`` for ``token`` with lacre's client: (bundle JSON, entry kind)."""
    from lacre.cli.sign import signing_context
    from lacre.sign.config import load_json, split_trust_config

    trusted_root, signing_config = split_trust_config(load_json(trust_config, "trust config"))
    context, _ = signing_context(
        json.dumps(trusted_root).encode(), json.dumps(signing_config).encode(), None
    )

    def sign(token: str, data: bytes) -> tuple[bytes, str]:
        bundle = context.keyless(token).sign_blob(data)
        kind = bundle.material.tlog_entries[0].kind_version
        return bundle.to_bytes(), f"{kind.kind}/{kind.version}"

    return sign


def sigstore_signer(trust_config: str) -> Callable[[str, bytes], tuple[bytes, str]]:
    """The same with sigstore-python's client."""
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    context = SigningContext.from_trust_config(ClientTrustConfig.from_json(trust_config))

    def sign(token: str, data: bytes) -> tuple[bytes, str]:
        with context.signer(IdentityToken(token)) as signer:  # a new key and certificate
            bundle = signer.sign_artifact(data)
        entry = bundle.log_entry._inner
        return bundle.to_json().encode(), f"{entry.kind_version.kind}/{entry.kind_version.version}"

    return sign


def run_process(phase: Phase, index: int) -> Outcome:
    """Run ``phase.threads`` signers until ``phase.end_at``; measure inside the window."""
    make = lacre_signer if phase.client == "lacre" else sigstore_signer
    sign = make(phase.trust_config)
    outcome = Outcome(0, [], {}, [], [])
    lock = threading.Lock()

    def signer(number: int) -> None:
        token = phase.tokens[(index * phase.threads + number) % len(phase.tokens)]
        counter = 0
        last: tuple[bytes, bytes] | None = None
        while (started := time.time()) < phase.end_at:
            data = f"artifact {index}/{number}/{counter}".encode()
            counter += 1
            try:
                bundle, kind = sign(token, data)
            except Exception as exc:  # counted and reported, never hidden
                with lock:
                    name = type(exc).__name__
                    outcome.errors[name] = outcome.errors.get(name, 0) + 1
                continue
            finished = time.time()
            last = (bundle, data)
            with lock:
                if phase.start_at <= started and finished <= phase.end_at:
                    outcome.completed += 1
                    outcome.latencies.append(finished - started)
                if kind not in outcome.kinds:
                    outcome.kinds.append(kind)
        if last is not None:
            with lock:
                outcome.last_bundles.append(last)

    threads = [threading.Thread(target=signer, args=(n,)) for n in range(phase.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def run_phase(settings: Settings, client: str, trust_config: str, tokens: list[str]) -> Outcome:
    """Spread ``settings.signers`` over client processes; merge what they measured."""
    per_process = max(1, settings.signers // settings.processes)
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + settings.startup_s + settings.warmup_s
    phase = Phase(
        client, per_process, start_at, start_at + settings.duration_s, trust_config, tuple(tokens)
    )
    with concurrent.futures.ProcessPoolExecutor(settings.processes, mp_context=context) as pool:
        outcomes = list(
            pool.map(run_process, [phase] * settings.processes, range(settings.processes))
        )
    merged = Outcome(0, [], {}, [], [])
    for outcome in outcomes:
        merged.completed += outcome.completed
        merged.latencies += outcome.latencies
        merged.last_bundles += outcome.last_bundles
        merged.kinds += [kind for kind in outcome.kinds if kind not in merged.kinds]
        for name, count in outcome.errors.items():
            merged.errors[name] = merged.errors.get(name, 0) + count
    return merged


def verify_bundles(outcome: Outcome, trusted_root: Path, issuer: str) -> int:
    """Verify the last bundle of every signer with lacre.verify; return how many passed."""
    from lacre.verify import AllOf, Identity, Issuer, Verifier

    verifier = Verifier.from_file(trusted_root)
    policy = AllOf(Identity(EMAIL), Issuer(issuer))
    for bundle, data in outcome.last_bundles:
        verifier.verify(bundle, data, policy)
    return len(outcome.last_bundles)


def figures(outcome: Outcome, prefix: str, settings: Settings) -> dict[str, Any]:
    """Throughput and latency of one phase."""
    latencies = sorted(outcome.latencies)
    return {
        f"{prefix}_signings_per_s": round(outcome.completed / settings.duration_s, 1),
        f"{prefix}_p50_s": rounded(quantile(latencies, 0.50)),
        f"{prefix}_p99_s": rounded(quantile(latencies, 0.99)),
        f"{prefix}_errors": outcome.errors,
        f"{prefix}_entry_kinds": outcome.kinds,
    }


@dataclass(frozen=True)
class Settings:
    """What to run."""

    quick: bool
    duration_s: float
    warmup_s: float
    startup_s: float
    signers: int
    processes: int
    workers: int


def mint_tokens(server: ServerProcess, count: int) -> list[str]:
    """Identity tokens from the development issuer, valid for the whole run."""
    return [server.token(EMAIL) for _ in range(count)]


def run(settings: Settings) -> dict[str, Any]:
    """Start the server, run both phases, verify samples, return every figure."""
    results: dict[str, Any] = {
        "quick": settings.quick,
        "signers": settings.signers,
        "client_processes": settings.processes,
        "server_workers": settings.workers,
        **machine(),
        "window_s": settings.duration_s,
    }
    with tempfile.TemporaryDirectory(prefix="lacre-bench-e2e-") as workdir:
        extra = ("--workers", str(settings.workers), "--log-level", "warning")
        server: ServerProcess = start_lacre(Path(workdir), "e2e", *extra)
        with server:
            say(f"server ready at {server.url}")
            client_dir = Path(workdir) / "e2e" / "client"
            trust_config = (client_dir / "trust_config.json").read_text()
            tokens = mint_tokens(server, settings.signers)
            for client in ("lacre", "sigstore_python"):
                say(f"{client}: {settings.signers} signers, {settings.duration_s:.0f} s")
                outcome = run_phase(settings, client, trust_config, tokens)
                phase = figures(outcome, client, settings)
                results.update(phase)
                results[f"{client}_verified"] = verify_bundles(
                    outcome, client_dir / "trusted_root.json", f"{server.url}/oidc"
                )
                say(
                    f"{client}: {phase[f'{client}_signings_per_s']}/s, p50 "
                    f"{phase[f'{client}_p50_s']} s, p99 {phase[f'{client}_p99_s']} s, "
                    f"errors {outcome.errors}, kinds {outcome.kinds}"
                )
    python_rate = results["sigstore_python_signings_per_s"]
    results["ratio"] = (
        round(results["lacre_signings_per_s"] / python_rate, 2) if python_rate else None
    )
    results["p99_s"] = results["lacre_p99_s"]
    results["targets"] = TARGETS
    results["met"] = judge(results, TARGETS, frozenset())
    return results


def parse_args(argv: Sequence[str] | None) -> Settings:
    """Command-line options."""
    parser = argument_parser(__doc__, "short phases (under a minute)")
    parser.add_argument("--duration", type=float, help="seconds measured per phase")
    parser.add_argument("--signers", type=int, default=SIGNERS)
    parser.add_argument("--processes", type=int, default=PROCESSES, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    options = parser.parse_args(argv)
    return Settings(
        quick=options.quick,
        duration_s=options.duration or (10.0 if options.quick else 30.0),
        warmup_s=3.0 if options.quick else 5.0,
        startup_s=6.0,
        signers=options.signers,
        processes=options.processes,
        workers=options.workers,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the figures as the last line of stdout."""
    settings = parse_args(argv)
    return report(lambda: run(settings), failures=(RuntimeError, OSError, httpx.HTTPError))


if __name__ == "__main__":
    sys.exit(main())
