"""HTTP benchmark of the certificate authority: certificates issued per second.

Usage::

    python benchmarks/ca_issue.py --quick                  # under a minute
    python benchmarks/ca_issue.py                          # longer window
    python benchmarks/ca_issue.py --quick --profile DIR    # and profile the server (py-spy)
    python benchmarks/ca_issue.py --quick --ca-key ecdsa-p384  # a CA with P-384 keys

32 concurrent clients, each on its own keep-alive HTTP/1.1 connection with one
request in flight, ask ``POST /api/v2/signingCert`` of a
``lacre server --dev --workers 2`` started as a subprocess. Each answer is a
certificate chain whose leaf embeds the SCT of the server's CT log: the time
measured includes logging the precertificate durably.

Before anything is timed the benchmark mints identity tokens with the
development issuer's key (``DATA_DIR/keys/oidc.pem``, read once the server
has created it) and builds a pool of distinct requests, each for its own
ECDSA P-256 key: half carry a PKCS#10 request (as sigstore-python sends),
half a public key with a proof of possession (as sigstore-js and cosign do);
each has a token of its own, in ``credentials.oidcIdentityToken``. The pool
is used round and round: the CA issues a fresh certificate for every request.

The server makes its own CA keys in development mode, of the type ``--ca-key``
names (``ecdsa-p256``, the default, or ``ecdsa-p384``) through the ``ca: key_type``
setting of a configuration file. The CA signs every certificate, so the key type
shows in ``issue_server_cpu_ms_per_request``.

The client, the warm-up, the measured window and the CPU accounting are those
of ``log_http.py``. The server's CPU is its supervisor plus its worker
processes. After the window a sample of answers is checked: the chain verifies
up to the CA root of ``DATA_DIR/client/trusted_root.json``, the leaf names the
token's identity and the requested key, and its embedded SCT verifies with
that trusted root's CT key (with sigstore-python's SCT verification).

Human-readable progress goes to stderr; the last line of stdout is one JSON
object with every figure (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import log_http
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
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from log_http import LoadResult, LoadSpec, Profiler, posts, run_load
from sigstore._internal.sct import verify_sct
from sigstore._internal.trust import KeyringPurpose
from sigstore.models import TrustedRoot

from lacre.ca.key_types import CA_KEY_TYPES
from lacre.keys import SoftwareSigner, load_signer
from lacre.oidc.devissuer import MAX_LIFETIME_S, DevIssuer

TARGETS: dict[str, float] = {"certs_per_s": 800, "p99_s": 0.25}
"""What the CA should reach on 2 cores."""

_AT_MOST = frozenset({"p99_s"})

PATH = "/api/v2/signingCert"
CLIENTS = 32
IDENTITIES = 16
"""Distinct email identities the tokens are spread over."""
VERIFIED_ANSWERS = 200

CA_CATEGORIES = [
    (name, re.compile(pattern))
    for name, pattern in [
        ("token verification (JWS, claims)", r"\(lacre/oidc/"),
        ("CT log: precertificate checks", r"_checked_chain \(lacre/ca/ctlog"),
        ("CT log: append (sequencing, integration)", r"\(lacre/tlog/"),
        ("CT log: SCT signing", r"sign_sct \(lacre/"),
        ("certificate signing (precertificate, final)", r"\(lacre/x509/"),
        ("request parsing (CSR, key, proof)", r"\(lacre/ca/(requests|possession)"),
        ("issuance, other", r"\(lacre/ca/"),
        ("request body read and JSON", r"(read_json|read_body) \(lacre/apps/http"),
        ("other lacre code", r"\(lacre/(?!cli/|__main__|apps/server/app)"),
    ]
]
"""What the server's samples are spent on, for ``--profile``: the first that matches."""


@dataclass(frozen=True)
class Settings:
    """Sizes and durations of one run."""

    quick: bool
    pool: int
    warmup_s: float
    duration_s: float
    clients: int
    workers: int
    style: str
    ca_key: str
    profile: Path | None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _csr_request(key: ec.EllipticCurvePrivateKey, email: str) -> dict[str, Any]:
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
    pem = csr.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    return {"certificateSigningRequest": _b64(pem)}


def _key_request(key: ec.EllipticCurvePrivateKey, email: str) -> dict[str, Any]:
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    proof = key.sign(email.encode(), ec.ECDSA(hashes.SHA256()))
    return {
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": public.decode()},
            "proofOfPossession": _b64(proof),
        }
    }


_STYLES: dict[str, list[Callable[[ec.EllipticCurvePrivateKey, str], dict[str, Any]]]] = {
    "mixed": [_csr_request, _key_request],
    "csr": [_csr_request],
    "key": [_key_request],
}


def build_requests(issuer: DevIssuer, count: int, style: str) -> list[bytes]:
    """``count`` request bodies, each with its own key and its own token.

    The tokens name ``IDENTITIES`` email addresses in turn.
    """
    builders = _STYLES[style]
    bodies: list[bytes] = []
    for index in range(count):
        email = f"bench{index % IDENTITIES}@example.com"
        key = ec.generate_private_key(ec.SECP256R1())
        body = builders[index % len(builders)](key, email)
        token = issuer.mint(email, lifetime_s=MAX_LIFETIME_S)
        body["credentials"] = {"oidcIdentityToken": token}
        bodies.append(json.dumps(body, separators=(",", ":")).encode())
    return bodies


def ca_key_options(workdir: Path, ca_key: str) -> list[str]:
    """The server options that make its CA keys of type ``ca_key``."""
    config = workdir / "ca-key.yaml"
    config.write_text(f"ca:\n  key_type: {ca_key}\n")
    return ["--config", str(config)]


def dev_issuer(data_dir: Path, url: str) -> DevIssuer:
    """The server's development issuer, rebuilt from its key file."""
    signer = load_signer(f"file:{data_dir / 'keys' / 'oidc.pem'}")
    assert isinstance(signer, SoftwareSigner)
    return DevIssuer(f"{url}/oidc", signer)


def worker_pids(pid: int) -> list[int]:
    """The child processes of ``pid`` (the server's workers)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def check_answers(answers: list[bytes], trusted_root: Path) -> int:
    """Check each answer's chain and embedded SCT against ``trusted_root``; count them."""
    root = TrustedRoot.from_file(str(trusted_root))
    ct_keys = root.ct_keyring(KeyringPurpose.SIGN)
    ca_roots = {cert.public_bytes(serialization.Encoding.DER) for cert in root.get_fulcio_certs()}
    for answer in answers:
        pems = json.loads(answer)["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        chain = [x509.load_pem_x509_certificate(pem.encode()) for pem in pems]
        for child, parent in itertools.pairwise(chain):
            child.verify_directly_issued_by(parent)
        if chain[-1].public_bytes(serialization.Encoding.DER) not in ca_roots:
            raise RuntimeError("an answer's chain does not end at the trusted root's CA")
        san = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        if not san.get_values_for_type(x509.RFC822Name)[0].startswith("bench"):
            raise RuntimeError(f"unexpected identity in a certificate: {san}")
        verify_sct(chain[0], chain[1:], ct_keys)
    return len(answers)


def issue_phase(
    settings: Settings, server: ServerProcess, bodies: list[bytes]
) -> tuple[LoadResult, dict[str, Any]]:
    """The load: every client posts requests from the pool, one at a time, expecting 200.

    Returns the result and, with ``--profile``, the profile summary of each worker.
    """
    workers = worker_pids(server.pid)
    profilers = [Profiler(settings.profile, pid) for pid in workers or [server.pid]]
    starts = [profiler.start(f"ca-worker{n}") for n, profiler in enumerate(profilers)]

    def on_window(seconds: float) -> None:
        for start in starts:
            if start is not None:
                start(seconds)

    result = run_load(
        LoadSpec(
            server.host,
            server.port,
            posts(PATH, bodies, cycle=True),
            200,
            settings.clients,
            settings.warmup_s,
            settings.duration_s,
            server.pid,
            keep=VERIFIED_ANSWERS,
            on_window=on_window,
            # The workers' CPU, reported by run_load as the "database" processes'.
            database_pids=lambda: workers,
        )
    )
    log_http.CATEGORIES = CA_CATEGORIES  # the summary's categories: the CA's steps
    profiles: dict[str, Any] = {}
    for profiler in profilers:
        profiles.update(profiler.finish())
    return result, profiles


def figures_of(result: LoadResult) -> dict[str, Any]:
    """The run's figures: the headline ones, then ``issue_*`` details."""
    details = result.figures("issue", "certs")
    workers = details.pop("issue_database_cpu_share", None)
    server = details.get("issue_server_cpu_share") or 0.0
    if workers is not None:
        details["issue_server_cpu_share"] = round(server + workers, 3)
        details["issue_workers_cpu_share"] = workers
        per_request = (server + workers) * result.window_s * 1000 / max(result.requests, 1)
        details["issue_server_cpu_ms_per_request"] = round(per_request, 4)
    details.pop("issue_server_main_thread_cpu_share", None)  # the supervisor's: meaningless
    return {
        "certs_per_s": details.pop("issue_certs_per_s"),
        "p50_s": details.pop("issue_p50_s"),
        "p99_s": details.pop("issue_p99_s"),
        **details,
    }


def run(settings: Settings) -> dict[str, Any]:
    """Start the server, build the requests, load it, check a sample; return the figures."""
    figures: dict[str, Any] = {
        "benchmark": "ca_issue",
        "quick": settings.quick,
        "clients": settings.clients,
        "server_workers": settings.workers,
        "style": settings.style,
        "ca_key": settings.ca_key,
        **machine(),
        "durations_s": {"warmup": settings.warmup_s, "window": settings.duration_s},
    }
    with tempfile.TemporaryDirectory(prefix="lacre-ca-bench-") as tmp:
        workdir = Path(tmp)
        options = ["--workers", str(settings.workers), *ca_key_options(workdir, settings.ca_key)]
        with start_lacre(workdir, "ca", *options) as server:
            say(f"building {settings.pool:,} requests ({settings.style}), one P-256 key each")
            building = time.perf_counter()
            issuer = dev_issuer(workdir / "ca", server.url)
            bodies = build_requests(issuer, settings.pool, settings.style)
            figures["pool"] = settings.pool
            figures["pregeneration_s"] = round(time.perf_counter() - building, 2)
            figures["request_bytes"] = round(sum(map(len, bodies)) / len(bodies))
            say(f"{settings.clients} clients ask for certificates")
            result, profiles = issue_phase(settings, server, bodies)
            say(f"  {result.describe('certificates').replace('database', 'workers')}")
            if result.errors or not result.requests:
                raise RuntimeError(f"failed requests {result.errors}: {result.error_samples}")
            figures.update(figures_of(result))
            figures.update(profiles)
            trusted_root = workdir / "ca" / "client" / "trusted_root.json"
            figures["answers_verified"] = check_answers(result.kept, trusted_root)
            say(f"  {figures['answers_verified']} answers checked: chain, identity, SCT")
    figures["targets"] = TARGETS
    figures["pass"] = judge(figures, TARGETS, _AT_MOST)
    return figures


def parse_args(argv: Sequence[str] | None) -> Settings:
    """Command-line options to settings."""
    parser = argument_parser(__doc__)
    parser.add_argument("--pool", type=int, help="distinct requests built before timing")
    parser.add_argument("--duration", type=float, help="seconds of the measured window")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up before the window")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="lacre server processes")
    parser.add_argument(
        "--style", choices=sorted(_STYLES), default="mixed", help="CSRs, public keys, or both"
    )
    parser.add_argument(
        "--ca-key",
        choices=sorted(CA_KEY_TYPES),
        default="ecdsa-p256",
        help="the type of the CA keys the server makes",
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="sample the workers with py-spy into DIR"
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.workers < 1:
        parser.error("--clients and --workers must be at least 1")
    quick: bool = args.quick
    return Settings(
        quick=quick,
        pool=sizes(parser, quick, minimum=1)(args.pool, 2_000, 10_000),
        warmup_s=args.warmup if args.warmup is not None else (2.0 if quick else 5.0),
        duration_s=args.duration or (10.0 if quick else 30.0),
        clients=args.clients,
        workers=args.workers,
        style=args.style,
        ca_key=args.ca_key,
        profile=args.profile.resolve() if args.profile else None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the figures as the last line of stdout."""
    return report(lambda: run(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
