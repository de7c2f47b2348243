"""Verification benchmark: ``lacre.verify`` against sigstore-python, in-process and as a CLI.

Usage::

    python benchmarks/verify.py --quick     # under a minute
    python benchmarks/verify.py             # larger bundle sets, more rounds and CLI runs

A ``lacre server --dev`` is started as a subprocess on a fresh data directory,
and sigstore-python's own signing API, pointed at it through the client trust
config the server writes, signs the bundle sets, each bundle with a fresh
ephemeral key and so its own certificate:

* the **main set** (``--bundles``): Rekor v1 ``hashedrekord`` bundles with an
  inclusion promise and an inclusion proof against a signed checkpoint, and no
  RFC 3161 timestamp: the shape of a public-good Rekor v1 bundle;
* the **TSA set** (``--tsa-bundles``): Rekor v2 bundles, whose signing time
  comes from the server's timestamp authority.

Phases, in order:

1. **In-process.** Each round verifies every bundle of a set (parsing it from
   its JSON bytes, with the artifact's bytes and an identity policy) with a
   fresh ``lacre.verify.Verifier`` and then with a fresh sigstore-python
   ``Verifier``; each round, the next client goes first. A fresh verifier per
   round means nothing learnt from one bundle in a round helps the same
   bundle in a later one: only what distinct bundles share (the trusted
   root, the CA chain) is reused. The public-good bundles of the conformance
   suite (``happy-path-v0.1`` to ``-v0.3``) are measured the same way
   against the embedded public-good trusted root, and so are its Rekor v2
   bundles from Sigstore's staging instance (the ``rekor2-*`` cases that verify
   under one staging trusted root, each with an RFC 3161 timestamp) against it.
2. **Cold CLI.** ``lacre verify-blob`` and ``sigstore verify identity``, each
   a fresh Python process verifying one bundle of the main set offline, are
   run alternately with the floors (fresh interpreters that only start, or
   only import ``cryptography.x509``, click or both and end as ``verify-blob``
   ends); the medians are kept. lacre's modules are compiled to bytecode first.

Each set's **signature-check bound** is measured too (see ``_bound.py``): the
rate a verifier would reach if checking a bundle cost only its signature
verifications (the CA's on the certificate, the SCTs, the artifact signature,
the SETs, the checkpoints, the timestamps), each timed in this run. Each
client's rate is also reported as a fraction of that bound. So is the **parse
floor**, what reading a bundle costs before any check, and with it the
**ceiling**: the rate of a verifier that only parsed and checked signatures.

On the main and public-good sets, the **least verifier** (``_least.py``) takes its
turn in the same rounds: the checks a verifier of their one bundle shape must
make, in plain Python with ``cryptography`` and nothing more, a rate no complete
verifier in Python can beat.

Rates are computed from this process's CPU time, so that other work on the
machine disturbs them less; wall-clock rates are reported too. Human-readable
progress goes to stderr; the last line of stdout is one JSON object with every
figure (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import compileall
import json
import os
import py_compile
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _bound import parse_floor_s, signature_bound
from _common import (
    ServerProcess,
    argument_parser,
    judge,
    machine,
    report,
    say,
    sizes,
    start_lacre,
)
from _least import LeastTrust, Refused, least_verify
from sigstore.models import Bundle as ReferenceBundle
from sigstore.models import ClientTrustConfig
from sigstore.models import TrustedRoot as ReferenceRoot
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier as ReferenceVerifier
from sigstore.verify.policy import Identity as ReferenceIdentity

import lacre
from lacre.models.trust_reader import TrustedRoot
from lacre.verify import AllOf, Identity, Issuer, Verifier
from lacre.verify.roots import public_good_trusted_root_bytes

TARGETS: dict[str, float] = {"inprocess_ratio": 2.0, "cli_ratio": 0.25}
"""lacre against sigstore-python: at least twice the throughput, at most a quarter of the time."""

_AT_MOST = frozenset({"cli_ratio"})
"""Targets that are upper bounds; every other target is a lower bound."""

IDENTITY = "alice@example.com"
ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = ROOT / "tests" / "assets" / "conformance" / "bundle-verify"
PUBLIC_GOOD_CASES = ("happy-path-v0.1", "happy-path-v0.2", "happy-path-v0.3")
STAGING_V2_CASES = (
    "rekor2-happy-path",
    "rekor2-timestamp-with-embedded-cert",
    "rekor2-timestamp-without-embedded-cert",
    "rekor2-checkpoint-cosigned",
    "rekor2-checkpoint-multiple-cosigs",
    "rekor2-checkpoint-origin-not-first",
    "rekor2-checkpoint-two-sigs-cosigned",
    "rekor2-checkpoint-two-sigs-from-origin",
)
"""Rekor v2 + RFC 3161 bundles from Sigstore's staging instance: the suite's cases that
verify under one trusted root (the other verifying ``rekor2-*`` cases come with roots of
their own)."""
PUBLIC_GOOD_IDENTITY = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
PUBLIC_GOOD_ISSUER = "https://token.actions.githubusercontent.com"


@dataclass(frozen=True)
class Settings:
    """Sizes of one benchmark run."""

    quick: bool
    bundles: int
    tsa_bundles: int
    rounds: int
    cli_runs: int


@dataclass(frozen=True)
class BundleSet:
    """Bundles with their artifacts, the trusted root and the identity they are checked for."""

    name: str
    items: list[tuple[bytes, bytes]]
    trusted_root: Path
    identity: str
    issuer: str


def trust_config(data: Path, workdir: Path, *, tsa: bool) -> Path:
    """The client trust config of the server of ``data``, without its TSA unless ``tsa``."""
    document = json.loads((data / "client" / "trust_config.json").read_text())
    if not tsa:
        document["signingConfig"]["tsaUrls"] = []
    path = workdir / ("trust_config_tsa.json" if tsa else "trust_config.json")
    path.write_text(json.dumps(document))
    return path


def sign_set(
    server: ServerProcess, data: Path, config: Path, count: int, *, rekor_version: int, name: str
) -> BundleSet:
    """Sign ``count`` distinct artifacts with sigstore-python, one fresh key each."""
    trust = ClientTrustConfig.from_json(config.read_text())
    trust.force_tlog_version = rekor_version
    context = SigningContext.from_trust_config(trust)
    token = IdentityToken(server.token(IDENTITY))
    items = []
    for number in range(count):
        artifact = f"{name} artifact {number}\n".encode()
        with context.signer(token) as signer:
            items.append((signer.sign_artifact(artifact).to_json().encode(), artifact))
    return BundleSet(
        name=name,
        items=items,
        trusted_root=data / "client" / "trusted_root.json",
        identity=IDENTITY,
        issuer=f"{server.url}/oidc",
    )


def public_good_set(workdir: Path) -> BundleSet:
    """The conformance suite's public-good Rekor v1 bundles."""
    root = workdir / "public_good_trusted_root.json"
    root.write_bytes(public_good_trusted_root_bytes())
    return conformance_set("public_good", PUBLIC_GOOD_CASES, root)


def staging_v2_set() -> BundleSet:
    """Rekor v2 bundles with timestamps from the conformance suite (Sigstore staging)."""
    root = CONFORMANCE / STAGING_V2_CASES[0] / "trusted_root.json"
    return conformance_set("staging_v2", STAGING_V2_CASES, root)


def conformance_set(name: str, cases: Sequence[str], trusted_root: Path) -> BundleSet:
    """Conformance cases signed over ``a.txt`` by the suite's identity, under one trusted root."""
    artifact = (CONFORMANCE / "a.txt").read_bytes()
    items = [
        ((CONFORMANCE / case / "bundle.sigstore.json").read_bytes(), artifact) for case in cases
    ]
    return BundleSet(name, items, trusted_root, PUBLIC_GOOD_IDENTITY, PUBLIC_GOOD_ISSUER)


def lacre_round(bundles: BundleSet) -> Callable[[], None]:
    """One round of ``lacre.verify`` over the set, with a fresh verifier."""
    verifier = Verifier(TrustedRoot.parse(bundles.trusted_root.read_bytes()))
    policy = AllOf(Identity(bundles.identity), Issuer(bundles.issuer))

    def run() -> None:
        for bundle, artifact in bundles.items:
            verifier.verify(bundle, artifact, policy)

    return run


def reference_round(bundles: BundleSet) -> Callable[[], None]:
    """One round of sigstore-python's ``Verifier`` over the set, with a fresh verifier."""
    verifier = ReferenceVerifier(trusted_root=ReferenceRoot.from_file(str(bundles.trusted_root)))
    policy = ReferenceIdentity(identity=bundles.identity, issuer=bundles.issuer)

    def run() -> None:
        for bundle, artifact in bundles.items:
            verifier.verify_artifact(artifact, ReferenceBundle.from_json(bundle), policy)

    return run


def timed(run: Callable[[], None]) -> tuple[float, float]:
    """CPU and wall seconds ``run`` takes."""
    cpu, wall = time.process_time(), time.perf_counter()
    run()
    return time.process_time() - cpu, time.perf_counter() - wall


def least_round(bundles: BundleSet) -> Callable[[], None]:
    """One round of the least verifier (``_least.py``) over the set, trust read afresh."""
    trust = LeastTrust.parse(bundles.trusted_root.read_bytes())

    def run() -> None:
        for bundle, artifact in bundles.items:
            least_verify(bundle, artifact, trust, bundles.identity, bundles.issuer)

    return run


def check_least_refuses(bundles: BundleSet) -> None:
    """The least verifier refuses the set's first bundle over another artifact."""
    trust = LeastTrust.parse(bundles.trusted_root.read_bytes())
    bundle, artifact = bundles.items[0]
    try:
        least_verify(bundle, artifact + b"!", trust, bundles.identity, bundles.issuer)
    except Refused:
        return
    raise RuntimeError("the least verifier accepted a bundle over another artifact")


Round = Callable[[BundleSet], Callable[[], None]]
CLIENTS: dict[str, Round] = {"lacre": lacre_round, "sigstore_python": reference_round}


def in_process(
    bundles: BundleSet, rounds: int, prefix: str, clients: dict[str, Round] = CLIENTS
) -> dict[str, Any]:
    """Verify the set ``rounds`` times with each client, in turn; the rates and ratios."""
    for make in clients.values():  # warm up each, and check that every bundle verifies
        make(bundles)()
    spent = {client: [0.0, 0.0] for client in clients}
    order = list(clients.items())
    for number in range(rounds):
        turn = number % len(order)
        for client, make in order[turn:] + order[:turn]:
            cpu, wall = timed(make(bundles))
            spent[client][0] += cpu
            spent[client][1] += wall
    total = len(bundles.items) * rounds
    raw = [bundle for bundle, _ in bundles.items]
    bound, checks, costs = signature_bound(raw, bundles.trusted_root.read_bytes())
    parsing = parse_floor_s(raw)
    ceiling = 1 / (1 / bound + parsing)
    figures: dict[str, Any] = {
        f"{prefix}bundles": len(bundles.items),
        f"{prefix}bundle_checks": checks,
        f"{prefix}signature_bound_per_s": round(bound, 1),
        f"{prefix}signature_cost_us": {kind: round(cost * 1e6, 1) for kind, cost in costs.items()},
        f"{prefix}parse_floor_us": round(parsing * 1e6, 1),
        f"{prefix}ceiling_per_s": round(ceiling, 1),
    }
    for client, (cpu, wall) in spent.items():
        figures[f"{prefix}{client}_verifies_per_s"] = round(total / cpu, 1)
        figures[f"{prefix}{client}_verifies_per_wall_s"] = round(total / wall, 1)
        figures[f"{prefix}{client}_bound_fraction"] = round(total / cpu / bound, 2)
    reference = spent["sigstore_python"][0]
    figures[f"{prefix}inprocess_ratio"] = round(reference / spent["lacre"][0], 2)
    figures[f"{prefix}ceiling_ratio"] = round(ceiling * reference / total, 2)
    if "least" in spent:
        figures[f"{prefix}least_ratio"] = round(reference / spent["least"][0], 2)
        figures[f"{prefix}lacre_least_fraction"] = round(spent["least"][0] / spent["lacre"][0], 2)
    say(_in_process_line(bundles.name, prefix, figures, bound, checks, ceiling))
    return figures


def _in_process_line(
    name: str, prefix: str, figures: dict[str, Any], bound: float, checks: str, ceiling: float
) -> str:
    def rate(client: str) -> str:
        return f"{figures[f'{prefix}{client}_verifies_per_s']:,}/s"

    least = ""
    if f"{prefix}least_ratio" in figures:
        least = (
            f"; the least verifier {rate('least')} (x{figures[f'{prefix}least_ratio']}), "
            f"lacre at {figures[f'{prefix}lacre_least_fraction']:.0%} of it"
        )
    return (
        f"{name}: lacre {rate('lacre')}, sigstore-python {rate('sigstore_python')} "
        f"(x{figures[f'{prefix}inprocess_ratio']}){least}; signature bound {round(bound):,}/s "
        f"({checks}): lacre at {figures[f'{prefix}lacre_bound_fraction']:.0%}, sigstore-python "
        f"at {figures[f'{prefix}sigstore_python_bound_fraction']:.0%}; parsing alone "
        f"{figures[f'{prefix}parse_floor_us']} us/bundle, so at most {round(ceiling):,}/s "
        f"(x{figures[f'{prefix}ceiling_ratio']} of sigstore-python)"
    )


def cli_commands(bundles: BundleSet, config: Path, workdir: Path) -> dict[str, list[str]]:
    """The two commands verifying the first bundle of the set."""
    bundle, artifact = workdir / "cli.sigstore.json", workdir / "cli.txt"
    bundle.write_bytes(bundles.items[0][0])
    artifact.write_bytes(bundles.items[0][1])
    lacre = [
        sys.executable,
        "-m",
        "lacre",
        "verify-blob",
        str(artifact),
        "--bundle",
        str(bundle),
        "--certificate-identity",
        bundles.identity,
        "--certificate-oidc-issuer",
        bundles.issuer,
        "--trusted-root",
        str(bundles.trusted_root),
    ]
    sigstore = [sys.executable, "-m", "sigstore", "--trust-config", str(config), "verify"]
    sigstore += ["identity", "--bundle", str(bundle), "--cert-identity", bundles.identity]
    sigstore += ["--cert-oidc-issuer", bundles.issuer, str(artifact)]
    return {"lacre": lacre, "sigstore_python": sigstore}


def compile_lacre() -> None:
    """Compile lacre's modules to bytecode beforehand, as installing a wheel does.

    sigstore-python's bytecode was written when it was installed; an editable
    lacre under ``PYTHONDONTWRITEBYTECODE`` has none, and every cold run would
    compile each module it imports from source.
    """
    compileall.compile_dir(
        Path(lacre.__file__).parent,
        quiet=1,
        invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP,  # as pip installs
    )


FLOORS = {
    "floor_python": "pass",
    "floor_cryptography_x509": "import cryptography.x509",
    "floor_click": "import click",
    "floor_cryptography_click": "import cryptography.x509, click",
}
"""Fresh interpreters that only start, or only import what every verify-blob run imports."""
ENDING = "import gc, os; gc.disable(); {}; os._exit(0)"
"""How each floor runs: without the cyclic collector, ending without teardown, as
``verify-blob`` does, so that a floor costs what lacre's own run costs for the same work."""


def cold_cli(commands: dict[str, list[str]], runs: int, workdir: Path) -> dict[str, Any]:
    """Median wall time of each command and of each floor, run alternately in fresh processes."""
    compile_lacre()
    env = {**os.environ, "XDG_CACHE_HOME": str(workdir / "cache")}
    env["XDG_DATA_HOME"] = str(workdir / "data")
    floors = {name: [sys.executable, "-c", ENDING.format(code)] for name, code in FLOORS.items()}
    times: dict[str, list[float]] = {name: [] for name in [*commands, *floors]}
    for _ in range(runs):
        for name, command in [*commands.items(), *floors.items()]:
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            times[name].append(time.perf_counter() - started)
            if done.returncode != 0:
                raise RuntimeError(f"{name} failed: {done.stderr[-2000:]}")
    figures: dict[str, Any] = {
        f"{name}_s" if name in floors else f"{name}_cli_s": round(statistics.median(values), 3)
        for name, values in times.items()
    }
    figures["cli_ratio"] = round(figures["lacre_cli_s"] / figures["sigstore_python_cli_s"], 3)
    say(
        f"cold CLI: lacre {figures['lacre_cli_s']} s, sigstore-python "
        f"{figures['sigstore_python_cli_s']} s (x{figures['cli_ratio']}); a bare interpreter "
        f"{figures['floor_python_s']} s, importing cryptography.x509 "
        f"{figures['floor_cryptography_x509_s']} s, importing click {figures['floor_click_s']} s, "
        f"both {figures['floor_cryptography_click_s']} s"
    )
    return figures


def run(settings: Settings) -> dict[str, Any]:
    """Start the server, sign the sets, run both phases; return every figure."""
    started = time.perf_counter()
    figures: dict[str, Any] = {
        "benchmark": "verify",
        "quick": settings.quick,
        "rounds": settings.rounds,
        "cli_runs": settings.cli_runs,
        **machine(),
    }
    with tempfile.TemporaryDirectory(prefix="lacre-bench-verify-") as tmp:
        workdir, data = Path(tmp), Path(tmp) / "data"
        with start_lacre(workdir, data.name) as server:
            say(f"server ready at {server.url}; signing {settings.bundles} bundles")
            config = trust_config(data, workdir, tsa=False)
            main = sign_set(
                server, data, config, settings.bundles, rekor_version=1, name="rekor_v1"
            )
            say(f"signing {settings.tsa_bundles} Rekor v2 bundles with timestamps")
            tsa_config = trust_config(data, workdir, tsa=True)
            tsa = sign_set(
                server, data, tsa_config, settings.tsa_bundles, rekor_version=2, name="tsa"
            )
        figures["signing_s"] = round(time.perf_counter() - started, 1)
        figures["bundle_set"] = "rekor v1 hashedrekord, SET + proof, distinct certificates"
        with_least = {**CLIENTS, "least": least_round}
        public_good = public_good_set(workdir)
        for rekor_v1 in (main, public_good):
            check_least_refuses(rekor_v1)
        figures.update(in_process(main, settings.rounds, "", with_least))
        figures.update(in_process(tsa, settings.rounds, "tsa_"))
        figures.update(in_process(public_good, settings.rounds * 20, "public_good_", with_least))
        figures.update(in_process(staging_v2_set(), settings.rounds * 10, "staging_v2_"))
        figures.update(cold_cli(cli_commands(main, config, workdir), settings.cli_runs, workdir))
    figures["targets"] = TARGETS
    figures["pass"] = judge(figures, TARGETS, _AT_MOST)
    return figures


def parse_args(argv: Sequence[str] | None) -> Settings:
    """Command-line options to settings."""
    parser = argument_parser(__doc__)
    parser.add_argument("--bundles", type=int, help="bundles in the main (Rekor v1) set")
    parser.add_argument("--tsa-bundles", type=int, help="bundles in the Rekor v2 + TSA set")
    parser.add_argument("--rounds", type=int, help="in-process rounds over each set")
    parser.add_argument("--cli-runs", type=int, help="cold runs of each command")
    args = parser.parse_args(argv)
    quick: bool = args.quick
    pick = sizes(parser, quick, minimum=1)

    return Settings(
        quick=quick,
        bundles=pick(args.bundles, 200, 500),
        tsa_bundles=pick(args.tsa_bundles, 40, 150),
        rounds=pick(args.rounds, 2, 5),
        cli_runs=pick(args.cli_runs, 5, 11),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the figures as the last line of stdout."""
    settings = parse_args(argv)
    return report(lambda: run(settings))


if __name__ == "__main__":
    raise SystemExit(main())
