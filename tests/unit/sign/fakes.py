"""In-memory services for signing tests, built on the verifier tests' small instance."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtensionOID

from lacre.dsse import Envelope
from lacre.keys import KeyAlgorithm, PublicKey, generate_signer
from lacre.models.tlog_entry import TransparencyLogEntry
from lacre.sign.ports import Verifier
from lacre.transparency.ct import PrecertEntry, sign_sct
from lacre.tsa import TimestampAuthority, tsa_chain
from lacre.x509.fulcio import FulcioClaims
from lacre.x509.profile import LeafProfile, encode_sct_list
from tests.unit.verify.world import NOW, World, dsse_body, hashedrekord_body

ISSUED_AT = NOW + dt.timedelta(minutes=1)


def issue_leaf(
    world: World, key: PublicKey, *, identity: str = "alice@example.com", sct: bool = True
) -> x509.Certificate:
    """A leaf certificate for ``key`` from ``world``'s CA (with an SCT from its CT log)."""
    profile = LeafProfile(
        subject_alt_name=x509.RFC822Name(identity),
        public_key=key,
        fulcio_extensions=FulcioClaims(issuer="https://issuer.example.test"),
        not_before=NOW,
    )
    issuer_spki = world.ca_intermediate.public_key.spki_der
    entry = PrecertEntry(
        hashlib.sha256(issuer_spki).digest(), profile.tbs_for_sct(world.chain.intermediate)
    )
    signed = sign_sct(world.ct, entry, timestamp=int(NOW.timestamp() * 1000))
    scts = encode_sct_list([signed.encode()])
    leaf = profile.certificate(world.chain.intermediate, world.ca_intermediate, scts)
    return leaf if sct else without_scts(world, leaf)


def without_scts(world: World, leaf: x509.Certificate) -> x509.Certificate:
    """``leaf`` re-issued without its SCT list extension."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(leaf.subject)
        .issuer_name(leaf.issuer)
        .public_key(leaf.public_key())
        .serial_number(leaf.serial_number)
        .not_valid_before(leaf.not_valid_before_utc)
        .not_valid_after(leaf.not_valid_after_utc)
    )
    for extension in leaf.extensions:
        if extension.oid != ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS:
            builder = builder.add_extension(extension.value, extension.critical)
    key = world.ca_intermediate.private_key  # type: ignore[attr-defined]
    return builder.sign(key, hashes.SHA256())


@dataclass
class FakeCA:
    """Certifies the CSR's key (or, with ``other_key``, a different key)."""

    world: World
    other_key: bool = False
    sct: bool = True
    tokens: list[str] = field(default_factory=list)

    def sign_csr(self, csr: x509.CertificateSigningRequest, token: str) -> list[x509.Certificate]:
        self.tokens.append(token)
        key = PublicKey.wrap(csr.public_key())
        if self.other_key:
            key = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256).public_key
        leaf = issue_leaf(self.world, key, sct=self.sct)
        return [leaf, *self.world.chain.certificates]


def _pem(verifier: Verifier) -> bytes:
    if isinstance(verifier, PublicKey):
        return verifier.pem
    from cryptography.hazmat.primitives import serialization

    return verifier.public_bytes(serialization.Encoding.PEM)


@dataclass
class FakeLog:
    """A Rekor v1 log holding one entry per call, signed by ``world``'s log key."""

    world: World
    calls: list[str] = field(default_factory=list)

    def log_message(
        self, *, algorithm: str, digest: bytes, signature: bytes, verifier: Verifier
    ) -> TransparencyLogEntry:
        self.calls.append(f"message {algorithm}")
        body = hashedrekord_body(digest, signature, _pem(verifier))
        if algorithm != "sha256":
            document = json.loads(body)
            document["spec"]["data"]["hash"]["algorithm"] = algorithm
            body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        return self._entry(body)

    def log_dsse(self, *, envelope: Envelope, verifier: Verifier) -> TransparencyLogEntry:
        self.calls.append("dsse")
        body = dsse_body(envelope.payload, envelope.signatures[0].sig, _pem(verifier))
        return self._entry(body)

    def _entry(self, body: bytes) -> TransparencyLogEntry:
        document = self.world.log_entry(body, integrated_time=int(ISSUED_AT.timestamp()))
        return TransparencyLogEntry.from_json(document, "entry")


def timestamp_authority() -> TimestampAuthority:
    """A TSA (P-256 leaf under a P-384 root) answering at :data:`ISSUED_AT`."""
    signer = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)
    chain = tsa_chain(
        root_signer=generate_signer(KeyAlgorithm.ECDSA_P384_SHA384),
        tsa_key=signer.public_key,
        organization="lacre test",
        not_before=NOW - dt.timedelta(days=1),
    )
    return TimestampAuthority(signer, chain, clock=lambda: ISSUED_AT)
