"""The signature-check bound of a bundle set: what verifying it costs in signatures alone.

A verifier must check, for every bundle, at least these signatures, none of
which another bundle can share: the CA's signature on the signing
certificate, each embedded SCT, the artifact (or DSSE) signature, each
inclusion promise (SET), each checkpoint (the log's own signature) and each
RFC 3161 timestamp. What distinct bundles share (the trusted CA chain up to
its root) is not counted.

The bound is computed without lacre's code: the bundles and the trusted root
are read with ``json`` and ``cryptography`` only, each check is attributed the
key type that makes it (the issuing CA's, the CT log's, the signing
certificate's, the log's, the TSA's), and each key type's cost is measured in
the same run as ``cryptography`` verifying a signature over a short message
with a key of that type, the key object loaded once, as a verifier's trusted
keys are. The bound in verifications per second is one over the mean cost of a
bundle's checks.
"""

from __future__ import annotations

import base64
import functools
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

MESSAGE = b"m" * 200
"""What each timed signature covers."""
_CURVES: dict[str, tuple[ec.EllipticCurve, hashes.HashAlgorithm]] = {
    "secp256r1": (ec.SECP256R1(), hashes.SHA256()),
    "secp384r1": (ec.SECP384R1(), hashes.SHA384()),
    "secp521r1": (ec.SECP521R1(), hashes.SHA512()),
}


def key_kind(key: PublicKeyTypes) -> str:
    """A name for the type of ``key``: ``secp256r1``, ``ed25519``, ``rsa2048``, ..."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPublicKey):
        return f"rsa{key.key_size}"
    raise ValueError(f"no signature cost for {type(key).__name__}")


class TrustedKeys:
    """The key types of a trusted root's logs, CT logs, CAs and TSAs."""

    def __init__(self, trusted_root: bytes) -> None:
        """Read the key types from the ``trusted_root.json`` bytes."""
        document = json.loads(trusted_root)
        self.tlogs = _log_kinds(document.get("tlogs", []))
        self.ctlogs = _log_kinds(document.get("ctlogs", []))
        self.cas = _authority_kinds(document.get("certificateAuthorities", []))
        tsas = {kind for _, kind in _authority_kinds(document.get("timestampAuthorities", []))}
        if len(tsas) > 1:  # a timestamp's TSA would have to be found from its signer
            raise ValueError(f"TSAs of several key types cannot be priced: {sorted(tsas)}")
        self.tsa = next(iter(tsas), None)


def bundle_checks(bundle: bytes, keys: TrustedKeys) -> list[str]:
    """The key type of every signature check ``bundle`` needs, in no particular order."""
    document = json.loads(bundle)
    material = document["verificationMaterial"]
    leaf = x509.load_der_x509_certificate(_leaf_der(material))
    checks = [_issuer_kind(leaf, keys), key_kind(leaf.public_key())]
    scts = leaf.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps)
    checks += [keys.ctlogs[sct.log_id] for sct in scts.value]
    for entry in material.get("tlogEntries", []):
        log = keys.tlogs[base64.b64decode(entry["logId"]["keyId"])]
        checks += [log] * ("inclusionPromise" in entry)
        checks += [log] * ("checkpoint" in entry.get("inclusionProof", {}))
    timestamps = material.get("timestampVerificationData", {}).get("rfc3161Timestamps", [])
    if timestamps and keys.tsa is None:
        raise ValueError("a bundle has timestamps but the trusted root no TSA")
    checks += [str(keys.tsa)] * len(timestamps)
    return checks


def signature_bound(
    bundles: Iterable[bytes], trusted_root: bytes
) -> tuple[float, str, dict[str, float]]:
    """The bound for ``bundles``, the most common bundle's checks, and each key type's cost (s)."""
    keys = TrustedKeys(trusted_root)
    per_bundle = [bundle_checks(bundle, keys) for bundle in bundles]
    costs = {kind: signature_cost(kind) for kind in {k for checks in per_bundle for k in checks}}
    mean = statistics.fmean(sum(costs[kind] for kind in checks) for checks in per_bundle)
    shapes = Counter(_shape(checks) for checks in per_bundle)
    return 1 / mean, shapes.most_common(1)[0][0], costs


def parse_floor_s(bundles: Sequence[bytes]) -> float:
    """Median CPU seconds per bundle of the parsing a verifier does before any check.

    Before any signature check, a verifier (lacre and sigstore-python alike) reads
    the bundle's JSON, loads the signing certificate with its extensions and
    public key (the key verifies the artifact signature; the extensions carry the
    identity and the SCTs), and reads each log entry's body (which must name the
    signature and the certificate). This does that with ``json`` and
    ``cryptography`` alone, and nothing else: no check at all.
    """

    def parse_all() -> None:
        for bundle in bundles:
            _parse_minimum(bundle)

    return _median_cpu_s(parse_all, len(bundles), rounds=5)


def _parse_minimum(bundle: bytes) -> None:
    material = json.loads(bundle)["verificationMaterial"]
    leaf = x509.load_der_x509_certificate(_leaf_der(material))
    list(leaf.extensions)
    leaf.public_key()
    for entry in material.get("tlogEntries", []):
        json.loads(base64.b64decode(entry["canonicalizedBody"]))


def _shape(checks: list[str]) -> str:
    return ", ".join(f"{count} {kind}" for kind, count in sorted(Counter(checks).items()))


@functools.cache
def signature_cost(kind: str) -> float:
    """Median CPU seconds ``cryptography`` takes to verify one signature with a ``kind`` key.

    Timed once per run and key type, so every set's bound prices a key type alike.
    """
    verify = _verifier(kind)
    verify()
    per_round = 200

    def verify_many() -> None:
        for _ in range(per_round):
            verify()

    return _median_cpu_s(verify_many, per_round, rounds=7)


def _median_cpu_s(run: Callable[[], None], items: int, *, rounds: int) -> float:
    """The median over ``rounds`` of the CPU seconds ``run`` takes per item of its ``items``."""
    samples = []
    for _ in range(rounds):
        started = time.process_time()
        run()
        samples.append((time.process_time() - started) / items)
    return statistics.median(samples)


def _verifier(kind: str) -> Callable[[], None]:
    if kind == "ed25519":
        ed_key = ed25519.Ed25519PrivateKey.generate()
        ed_public, ed_signature = ed_key.public_key(), ed_key.sign(MESSAGE)
        return lambda: ed_public.verify(ed_signature, MESSAGE)
    if kind.startswith("rsa"):
        rsa_key = rsa.generate_private_key(65537, int(kind[3:]))
        pad, digest = padding.PKCS1v15(), hashes.SHA256()
        rsa_public, rsa_signature = rsa_key.public_key(), rsa_key.sign(MESSAGE, pad, digest)
        return lambda: rsa_public.verify(rsa_signature, MESSAGE, pad, digest)
    curve, hashing = _CURVES[kind]
    ec_key = ec.generate_private_key(curve)
    algorithm = ec.ECDSA(hashing)  # made once, as for the other key types
    ec_public, ec_signature = ec_key.public_key(), ec_key.sign(MESSAGE, algorithm)
    return lambda: ec_public.verify(ec_signature, MESSAGE, algorithm)


def _leaf_der(material: dict[str, dict[str, object]]) -> bytes:
    if "certificate" in material:
        return base64.b64decode(str(material["certificate"]["rawBytes"]))
    chain = material["x509CertificateChain"]["certificates"]
    assert isinstance(chain, list)
    return base64.b64decode(chain[0]["rawBytes"])


def _issuer_kind(leaf: x509.Certificate, keys: TrustedKeys) -> str:
    for subject, kind in keys.cas:
        if subject == leaf.issuer:
            return kind
    raise ValueError(f"no trusted CA named {leaf.issuer.rfc4514_string()}")


def _log_kinds(logs: list[dict[str, dict[str, str]]]) -> dict[bytes, str]:
    kinds = {}
    for log in logs:
        key = serialization.load_der_public_key(base64.b64decode(log["publicKey"]["rawBytes"]))
        kinds[base64.b64decode(log["logId"]["keyId"])] = key_kind(key)
    return kinds


def _authority_kinds(
    authorities: list[dict[str, dict[str, list[dict[str, str]]]]],
) -> list[tuple[x509.Name, str]]:
    found = []
    for authority in authorities:
        first = authority["certChain"]["certificates"][0]["rawBytes"]
        certificate = x509.load_der_x509_certificate(base64.b64decode(first))
        found.append((certificate.subject, key_kind(certificate.public_key())))
    return found
