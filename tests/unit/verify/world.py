"""A small, self-contained Sigstore instance for verifier tests.

A CA (root and intermediate), a CT log, a Rekor v1 log, signing certificates with
embedded SCTs, and bundles (message signatures or DSSE in-toto attestations)
logged with an inclusion promise and an inclusion proof against a signed
checkpoint. Every piece is built with lacre's own formats, so each can be
tampered with on its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lacre.dsse import IN_TOTO_PAYLOAD_TYPE, pae
from lacre.keys import KeyAlgorithm, Signer, generate_signer
from lacre.models.trusted_root import CertificateAuthorityEntry, TransparencyLogKey, trusted_root
from lacre.rekor.set import sign_set
from lacre.transparency.checkpoint import Checkpoint, sign_checkpoint
from lacre.transparency.ct import PrecertEntry, sign_sct
from lacre.transparency.merkle import inclusion_proof, leaf_hash, root_of
from lacre.transparency.note import NoteSigner
from lacre.x509.fulcio import FulcioClaims
from lacre.x509.profile import CaChain, LeafProfile, ca_chain, encode_sct_list

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
IDENTITY = "alice@example.com"
ISSUER = "https://issuer.example.test"
LOG_URL = "https://rekor.example.test"
LOG_NAME = "rekor.example.test"
ARTIFACT = b"hello, lacre\n"
OTHER_LEAVES = (b"first entry", b"third entry", b"fourth entry", b"fifth entry")


def b64(data: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(data).decode()


def canonical(document: dict[str, Any]) -> bytes:
    """Sorted, compact JSON (the canonical form for these ASCII documents)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class Leaf:
    """A signing key and its certificate."""

    signer: Signer
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        """DER of the certificate."""
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        """PEM of the certificate."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class World:
    """The instance: CA, CT log and transparency log keys."""

    ca_root: Signer = field(default_factory=lambda: generate_signer(KeyAlgorithm.ECDSA_P256_SHA256))
    ca_intermediate: Signer = field(
        default_factory=lambda: generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)
    )
    ct: Signer = field(default_factory=lambda: generate_signer(KeyAlgorithm.ECDSA_P256_SHA256))
    log: Signer = field(default_factory=lambda: generate_signer(KeyAlgorithm.ECDSA_P256_SHA256))

    def __post_init__(self) -> None:
        """Issue the CA chain."""
        self.chain: CaChain = ca_chain(
            root_signer=self.ca_root,
            intermediate_signer=self.ca_intermediate,
            organization="lacre test",
            not_before=NOW - dt.timedelta(days=30),
        )

    @property
    def log_id(self) -> bytes:
        """The transparency log's ID."""
        return self.log.public_key.key_id

    def leaf(self, *, identity: str = IDENTITY, issuer: str = ISSUER) -> Leaf:
        """A signing certificate valid from :data:`NOW` for ten minutes."""
        signer = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)
        profile = LeafProfile(
            subject_alt_name=x509.RFC822Name(identity),
            public_key=signer.public_key,
            fulcio_extensions=FulcioClaims(
                issuer=issuer,
                github_workflow_repository="octo/repo",
                github_workflow_ref="refs/heads/main",
            ),
            not_before=NOW,
        )
        issuer_spki = self.ca_intermediate.public_key.spki_der
        entry = PrecertEntry(
            hashlib.sha256(issuer_spki).digest(), profile.tbs_for_sct(self.chain.intermediate)
        )
        signed = sign_sct(self.ct, entry, timestamp=int(NOW.timestamp() * 1000))
        scts = encode_sct_list([signed.encode()])
        certificate = profile.certificate(self.chain.intermediate, self.ca_intermediate, scts)
        return Leaf(signer, certificate)

    def trusted_root(self) -> dict[str, Any]:
        """The trusted root naming this instance."""
        start = NOW - dt.timedelta(days=365)
        log = TransparencyLogKey(
            base_url=LOG_URL, key=self.log.public_key, log_id=self.log_id, valid_from=start
        )
        ct = TransparencyLogKey(
            base_url="https://ct.example.test",
            key=self.ct.public_key,
            log_id=self.ct.public_key.key_id,
            valid_from=start,
        )
        authority = CertificateAuthorityEntry(
            uri="https://fulcio.example.test",
            organization="lacre test",
            common_name="lacre root",
            chain_der=tuple(
                cert.public_bytes(serialization.Encoding.DER) for cert in self.chain.certificates
            ),
            valid_from=start,
        )
        return trusted_root([log], ctlogs=[ct], authorities=[authority])

    def log_entry(
        self, body: bytes, *, integrated_time: int, version: str = "0.0.1", kind: str = ""
    ) -> dict[str, Any]:
        """A TransparencyLogEntry for ``body`` at index 1 of a five-entry tree."""
        leaves = [OTHER_LEAVES[0], body, *OTHER_LEAVES[1:]]
        hashes = [leaf_hash(item) for item in leaves]

        def read(level: int, index: int) -> bytes:
            return root_of(hashes[index << level : (index + 1) << level])

        root = root_of(hashes)
        note = sign_checkpoint(
            Checkpoint(f"{LOG_NAME} - 42", len(leaves), root), [NoteSigner(LOG_NAME, self.log)]
        )
        promise = sign_set(self.log, body, integrated_time, self.log_id, 1001)
        return {
            "logIndex": "1001",
            "logId": {"keyId": b64(self.log_id)},
            "kindVersion": {"kind": kind or json.loads(body)["kind"], "version": version},
            "integratedTime": str(integrated_time),
            "inclusionPromise": {"signedEntryTimestamp": b64(promise)},
            "inclusionProof": {
                "logIndex": "1",
                "rootHash": b64(root),
                "treeSize": str(len(leaves)),
                "hashes": [b64(item) for item in inclusion_proof(1, len(leaves), read)],
                "checkpoint": {"envelope": note.decode()},
            },
            "canonicalizedBody": b64(body),
        }


def hashedrekord_body(digest: bytes, signature: bytes, verifier_pem: bytes) -> bytes:
    """A hashedrekord 0.0.1 canonical body."""
    return canonical(
        {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
                "signature": {
                    "content": b64(signature),
                    "publicKey": {"content": b64(verifier_pem)},
                },
            },
        }
    )


def dsse_body(payload: bytes, signature: bytes, verifier_pem: bytes) -> bytes:
    """A dsse 0.0.1 canonical body."""
    return canonical(
        {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": "00" * 32},
                "payloadHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(payload).hexdigest(),
                },
                "signatures": [{"signature": b64(signature), "verifier": b64(verifier_pem)}],
            },
        }
    )


def statement(artifact: bytes) -> bytes:
    """An in-toto v1 statement whose only subject is ``artifact``."""
    return canonical(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [
                {"name": "a.txt", "digest": {"sha256": hashlib.sha256(artifact).hexdigest()}}
            ],
            "predicateType": "https://example.test/predicate/v1",
            "predicate": {},
        }
    )


def message_bundle(
    world: World,
    leaf: Leaf,
    *,
    artifact: bytes = ARTIFACT,
    signature: bytes | None = None,
    integrated_time: dt.datetime = NOW + dt.timedelta(minutes=1),
) -> dict[str, Any]:
    """A v0.3 bundle with a message signature over ``artifact``, logged with its certificate."""
    sig = leaf.signer.sign(artifact) if signature is None else signature
    digest = hashlib.sha256(artifact).digest()
    body = hashedrekord_body(digest, sig, leaf.pem)
    return {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": b64(leaf.der)},
            "tlogEntries": [
                world.log_entry(body, integrated_time=int(integrated_time.timestamp()))
            ],
        },
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": b64(digest)},
            "signature": b64(sig),
        },
    }


def key_bundle(
    world: World, signer: Signer, *, artifact: bytes = ARTIFACT, signed: bytes | None = None
) -> dict[str, Any]:
    """A v0.3 bundle for ``artifact`` signed with a managed key (public key hint).

    The signature is over ``signed`` when given (a bundle whose signature is wrong).
    """
    sig = signer.sign(artifact if signed is None else signed)
    digest = hashlib.sha256(artifact).digest()
    body = hashedrekord_body(digest, sig, signer.public_key.pem)
    entry = world.log_entry(body, integrated_time=int(NOW.timestamp()))
    return {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "my-key"}, "tlogEntries": [entry]},
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": b64(digest)},
            "signature": b64(sig),
        },
    }


def dsse_bundle(world: World, leaf: Leaf, *, payload: bytes | None = None) -> dict[str, Any]:
    """A v0.3 bundle with a DSSE in-toto attestation about :data:`ARTIFACT`."""
    content = statement(ARTIFACT) if payload is None else payload
    sig = leaf.signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, content))
    body = dsse_body(content, sig, leaf.pem)
    entry = world.log_entry(body, integrated_time=int((NOW + dt.timedelta(minutes=1)).timestamp()))
    return {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": b64(leaf.der)},
            "tlogEntries": [entry],
        },
        "dsseEnvelope": {
            "payload": b64(content),
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{"sig": b64(sig)}],
        },
    }


def encode(document: dict[str, Any]) -> bytes:
    """The bundle as JSON bytes."""
    return json.dumps(document).encode()
