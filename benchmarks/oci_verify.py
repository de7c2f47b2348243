"""Container image verification against a local registry: images per second and round trips.

Usage::

    python benchmarks/oci_verify.py --quick    # under a minute
    python benchmarks/oci_verify.py            # more images, more passes

Set-up (not timed): the registry named by ``LACRE_TEST_REGISTRY``, or a
throwaway ``docker-registry`` on loopback; a ``lacre server --dev`` in a
temporary directory; random single-platform test images pushed and signed
keyless (``--storage both``: the legacy ``.sig`` tag and a referrer bundle
through the referrers fallback tag, as this registry has no referrers API).

Phases (each verifies every image once per pass, under the identity policy):

* cold — a fresh registry client per verification, no cache: what one
  ``lacre verify IMAGE@sha256:...`` pays. The trusted root is parsed once.
* warm — one client with a :class:`~lacre.containers.DigestCache` and
  remembered verifications, after one unmeasured pass: manifests and blobs
  fetched by digest come from the cache; the mutable ``.sig`` tag is fetched.
* round trips are also counted for an image given by tag (one resolution
  more) and for images signed with ``--storage referrers`` only.

Human-readable progress goes to stderr; the last line of stdout is one JSON
object with every figure (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from _common import ServerProcess, argument_parser, judge, report, say, start_lacre

from lacre.cli.sign import signing_context
from lacre.containers import CachingRegistryClient, DigestCache, ImageSigner, ImageVerifier
from lacre.models.trust_reader import TrustedRoot
from lacre.oci.reference import ImageReference
from lacre.oci.registry import RegistryClient
from lacre.sign.config import split_trust_config
from lacre.testing.ocilayout import push_image, random_image
from lacre.testing.registry import REGISTRY_ENV_VAR, ThrowawayRegistry, wait_until_ready
from lacre.verify import AllOf, Identity, Issuer, Policy, Verifier

EMAIL = "bench@example.com"
TARGETS = {"round_trips_per_verify": 3.0}
AT_MOST = frozenset(TARGETS)


@contextlib.contextmanager
def registry_address() -> Iterator[tuple[str, str]]:
    """The registry to use and where it came from."""
    address = os.environ.get(REGISTRY_ENV_VAR)
    if address:
        wait_until_ready(address, timeout_s=10.0)
        yield address, REGISTRY_ENV_VAR
        return
    say("starting a throwaway docker-registry")
    with ThrowawayRegistry() as server:
        yield server.address, "throwaway"


def push_and_sign(
    server: ServerProcess, data_dir: Path, repo: ImageReference, count: int, storage: str
) -> tuple[list[ImageReference], TrustedRoot]:
    """``count`` new images in ``repo``, each signed keyless into ``storage``."""
    trust = json.loads((data_dir / "client" / "trust_config.json").read_bytes())
    root, config = split_trust_config(trust)
    context, _ = signing_context(json.dumps(root).encode(), json.dumps(config).encode(), 1)
    session = context.keyless(server.token(EMAIL))
    images = []
    with RegistryClient() as client:
        signer = ImageSigner(client, session, storage=storage)  # type: ignore[arg-type]
        for number in range(count):
            pinned = push_image(client, repo.with_tag(f"{storage}-{number}"), random_image())
            signer.sign(pinned)
            images.append(pinned)
    return images, TrustedRoot.parse(json.dumps(root))


def cold(images: list[ImageReference], verifier: Verifier, policy: Policy) -> dict[str, float]:
    """Each verification with a fresh client and no cache."""
    trips = []
    started = time.perf_counter()
    for image in images:
        with RegistryClient() as client:
            ImageVerifier(client, verifier).verify(image, policy)
            trips.append(client.round_trips)
    elapsed = time.perf_counter() - started
    return {"per_s": len(images) / elapsed, "trips": statistics.mean(trips)}


def warm(
    images: list[ImageReference], verifier: Verifier, policy: Policy, passes: int
) -> dict[str, float]:
    """Verifications through one caching client, after one unmeasured pass."""
    with CachingRegistryClient(cache=DigestCache()) as client:
        checker = ImageVerifier(client, verifier, remember=True)
        for image in images:
            checker.verify(image, policy)
        before = client.round_trips
        started = time.perf_counter()
        for _ in range(passes):
            for image in images:
                checker.verify(image, policy)
        elapsed = time.perf_counter() - started
        count = len(images) * passes
        return {"per_s": count / elapsed, "trips": (client.round_trips - before) / count}


def tag_trips(image: ImageReference, tag: str, verifier: Verifier, policy: Policy) -> int:
    """Round trips to verify ``image`` named by ``tag``."""
    with RegistryClient() as client:
        ImageVerifier(client, verifier).verify(image.with_tag(tag), policy)
        return client.round_trips


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every phase; the figures."""
    count, referrers_count = (10, 3) if args.quick else (args.images, 10)
    passes = 3 if args.quick else 10
    with registry_address() as (address, origin), tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        with start_lacre(Path(tmp), data_dir.name, "--log-level", "warning") as server:
            repo = ImageReference.parse(f"{address}/bench/oci-verify-{os.getpid()}")
            say(f"pushing and signing {count} images ({origin} registry {address})")
            images, root = push_and_sign(server, data_dir, repo, count, "both")
            only_referrers, _ = push_and_sign(server, data_dir, repo, referrers_count, "referrers")
            policy = AllOf(Identity(EMAIL), Issuer(f"{server.url}/oidc"))
        figures = measure(images, only_referrers, Verifier(root), policy, passes)
    figures |= {"images": count, "warm_passes": passes, "registry": origin}
    figures["targets"] = TARGETS
    figures["pass"] = judge(figures, TARGETS, AT_MOST)
    for key, value in figures.items():
        say(f"  {key}: {value}")
    return figures


def measure(
    images: list[ImageReference],
    only_referrers: list[ImageReference],
    verifier: Verifier,
    policy: Policy,
    passes: int,
) -> dict[str, Any]:
    """The timed phases."""
    say("cold verification")
    cold_figures = cold(images, verifier, policy)
    say("warm verification")
    warm_figures = warm(images, verifier, policy, passes)
    referrers_figures = cold(only_referrers, verifier, policy)
    figures: dict[str, Any] = {
        "verifies_per_s_cold": round(cold_figures["per_s"], 1),
        "verifies_per_s_warm": round(warm_figures["per_s"], 1),
        "round_trips_per_verify": cold_figures["trips"],
        "round_trips_per_verify_by_tag": tag_trips(images[0], "both-0", verifier, policy),
        "round_trips_per_verify_warm": warm_figures["trips"],
        "round_trips_per_verify_referrers_only": referrers_figures["trips"],
        "verifies_per_s_referrers_only_cold": round(referrers_figures["per_s"], 1),
    }
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run, print the JSON line."""
    parser = argument_parser(__doc__, "a short run (under a minute)")
    parser.add_argument("--images", type=int, default=50, help="images signed and verified")
    args = parser.parse_args(argv)
    return report(lambda: run(args))


if __name__ == "__main__":
    raise SystemExit(main())
