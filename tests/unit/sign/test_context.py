"""SigningContext: keyless and managed-key signing, checked by lacre's own verifier."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import httpx
import pytest

from lacre.clients.tsa import TimestampClient
from lacre.errors import ConfigError, Error, InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, generate_signer
from lacre.models.bundle import Bundle
from lacre.models.timestamp_authority import TimestampAuthorityEntry, with_timestamp_authorities
from lacre.models.tlog_entry import KindVersion, TransparencyLogEntry
from lacre.models.trust_reader import TrustedRoot
from lacre.sign import SigningContext, Subject, statement
from lacre.tsa import TimestampAuthority
from lacre.verify import AllOf, Identity, Issuer, ManagedKey, Verifier
from tests.unit.sign.fakes import FakeCA, FakeLog, timestamp_authority
from tests.unit.verify.world import NOW, World

ARTIFACT = b"an artifact\n"
POLICY = AllOf(Identity("alice@example.com"), Issuer("https://issuer.example.test"))


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def root(world: World) -> TrustedRoot:
    return TrustedRoot.from_json(world.trusted_root())


def _context(world: World, root: TrustedRoot, **changes: Any) -> SigningContext:
    options: dict[str, Any] = {"trusted_root": root, "tlogs": [FakeLog(world)], "ca": FakeCA(world)}
    options.update(changes)
    return SigningContext(**options)


def _tsa_client(authority: TimestampAuthority) -> TimestampClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=authority.respond(request.content).der)

    http = httpx.Client(transport=httpx.MockTransport(answer), timeout=5)
    return TimestampClient("https://tsa.example.test/api/v1/timestamp", http=http)


def test_keyless_blob_bundle_verifies_and_round_trips(world: World, root: TrustedRoot) -> None:
    ca = FakeCA(world)
    session = _context(world, root, ca=ca).keyless("the-token")
    bundle = session.sign_blob(ARTIFACT)
    assert ca.tokens == ["the-token"]
    reparsed = Bundle.parse(bundle.to_bytes())
    assert reparsed.media_type == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert reparsed.message_signature is not None
    assert reparsed.message_signature.digest == hashlib.sha256(ARTIFACT).digest()
    result = Verifier(root).verify(bundle.to_bytes(), ARTIFACT, POLICY)
    assert result.certificate is not None
    with pytest.raises(VerificationError):
        Verifier(root).verify(bundle.to_bytes(), ARTIFACT + b"x", POLICY)


def test_one_certificate_signs_many_artifacts(world: World, root: TrustedRoot) -> None:
    ca = FakeCA(world)
    session = _context(world, root, ca=ca).keyless("t")
    first, second = session.sign_blob(b"one"), session.sign_blob(b"two")
    assert len(ca.tokens) == 1
    assert first.material.leaf == second.material.leaf
    Verifier(root).verify(second.to_bytes(), b"two", POLICY)


def test_attestation_names_every_subject_and_verifies(world: World, root: TrustedRoot) -> None:
    log = FakeLog(world)
    session = _context(world, root, tlogs=[log]).keyless("t")
    subjects = [Subject.of("a.txt", ARTIFACT), Subject.of("b.txt", b"other")]
    payload = statement(subjects, "https://slsa.dev/provenance/v1", {"x": 1})
    bundle = session.sign_statement(payload)
    assert log.calls == ["dsse"]
    assert bundle.dsse_envelope is not None
    document = json.loads(bundle.dsse_envelope.payload)
    assert [s["name"] for s in document["subject"]] == ["a.txt", "b.txt"]
    Verifier(root).verify(bundle.to_bytes(), ARTIFACT, POLICY)
    Verifier(root).verify(bundle.to_bytes(), b"other", POLICY)
    with pytest.raises(VerificationError):
        Verifier(root).verify(bundle.to_bytes(), b"not a subject", POLICY)


def test_a_leaf_for_another_key_is_refused(world: World, root: TrustedRoot) -> None:
    with pytest.raises(VerificationError, match="another key"):
        _context(world, root, ca=FakeCA(world, other_key=True)).keyless("t")


def test_a_leaf_without_sct_is_refused(world: World, root: TrustedRoot) -> None:
    with pytest.raises(VerificationError, match="SCT"):
        _context(world, root, ca=FakeCA(world, sct=False)).keyless("t")


def test_an_sct_from_an_untrusted_ct_log_is_refused(world: World) -> None:
    document = world.trusted_root()
    document["ctlogs"] = []
    with pytest.raises(VerificationError, match="SCT"):
        _context(world, TrustedRoot.from_json(document)).keyless("t")


def test_a_short_chain_is_refused(world: World, root: TrustedRoot) -> None:
    class OnlyLeaf(FakeCA):
        def sign_csr(self, csr: Any, token: str) -> Any:
            return super().sign_csr(csr, token)[:1]

    with pytest.raises(VerificationError, match="too short"):
        _context(world, root, ca=OnlyLeaf(world)).keyless("t")


def test_keyless_needs_a_ca_and_signing_needs_a_log(world: World, root: TrustedRoot) -> None:
    with pytest.raises(ConfigError, match="certificate authority"):
        _context(world, root, ca=None).keyless("t")
    with pytest.raises(ConfigError, match="transparency log"):
        _context(world, root, tlogs=[])


@pytest.mark.parametrize(
    ("algorithm", "digest_name"),
    [(KeyAlgorithm.ECDSA_P256_SHA256, "SHA2_256"), (KeyAlgorithm.ECDSA_P384_SHA384, "SHA2_384")],
)
def test_managed_key_bundle_has_a_hint_and_the_key_in_the_log(
    world: World, root: TrustedRoot, algorithm: KeyAlgorithm, digest_name: str
) -> None:
    signer = generate_signer(algorithm)
    log = FakeLog(world)
    bundle = _context(world, root, tlogs=[log], ca=None).with_key(signer).sign_blob(ARTIFACT)
    document = bundle.to_json()
    assert "certificate" not in document["verificationMaterial"]
    assert document["verificationMaterial"]["publicKey"]["hint"]
    assert document["messageSignature"]["messageDigest"]["algorithm"] == digest_name
    body = json.loads(bundle.material.tlog_entries[0].canonicalized_body)
    assert b"PUBLIC KEY" in __import__("base64").b64decode(
        body["spec"]["signature"]["publicKey"]["content"]
    )
    if algorithm is KeyAlgorithm.ECDSA_P256_SHA256:
        Verifier(root).verify(bundle.to_bytes(), ARTIFACT, ManagedKey(signer.public_key))
        other = generate_signer().public_key
        with pytest.raises(VerificationError):
            Verifier(root).verify(bundle.to_bytes(), ARTIFACT, ManagedKey(other))


def test_ed25519_keys_cannot_make_message_signatures(world: World, root: TrustedRoot) -> None:
    session = _context(world, root).with_key(generate_signer(KeyAlgorithm.ED25519))
    with pytest.raises(InvalidInput, match="ECDSA"):
        session.sign_blob(ARTIFACT)


def test_timestamps_are_added_and_verify(world: World) -> None:
    authority = timestamp_authority()
    entry = TimestampAuthorityEntry(
        uri="https://tsa.example.test",
        organization="lacre test",
        common_name="lacre tsa",
        chain_der=authority.chain.der(),
        valid_from=NOW.replace(year=2025),
    )
    root = TrustedRoot.from_json(with_timestamp_authorities(world.trusted_root(), [entry]))
    context = _context(world, root, tsas=[_tsa_client(authority)])
    bundle = context.keyless("t").sign_blob(ARTIFACT)
    assert len(bundle.material.timestamps) == 1
    result = Verifier(root).verify(bundle.to_bytes(), ARTIFACT, POLICY)
    assert len(result.times) >= 2


def test_a_failing_tsa_is_reported_and_skipped(
    world: World, root: TrustedRoot, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(_: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"code": 500, "message": "the TSA is down"})

    client = TimestampClient(
        "https://tsa.example.test/api/v1/timestamp",
        http=httpx.Client(transport=httpx.MockTransport(refuse), timeout=5),
    )
    with caplog.at_level(logging.WARNING):
        bundle = _context(world, root, tsas=[client]).keyless("t").sign_blob(ARTIFACT)
    assert bundle.material.timestamps == ()
    assert "the TSA is down" in caplog.text


class V2Log(FakeLog):
    """Claims its entries are Rekor v2 ones."""

    def _entry(self, body: bytes) -> TransparencyLogEntry:
        entry = super()._entry(body)
        return TransparencyLogEntry(
            log_index=entry.log_index,
            log_id=entry.log_id,
            kind_version=KindVersion(kind="hashedrekord", version="0.0.2"),
            inclusion_proof=entry.inclusion_proof,
            canonicalized_body=entry.canonicalized_body,
        )


def test_rekor_v2_only_bundles_need_a_timestamp(world: World, root: TrustedRoot) -> None:
    context = _context(world, root, tlogs=[V2Log(world)])
    with pytest.raises(ConfigError, match="signed timestamp"):
        context.keyless("t").sign_blob(ARTIFACT)


def test_errors_of_the_ca_pass_through(world: World, root: TrustedRoot) -> None:
    class Refusing(FakeCA):
        def sign_csr(self, csr: Any, token: str) -> Any:
            raise InvalidInput("the CA refused the request: bad token")

    with pytest.raises(Error, match="bad token"):
        _context(world, root, ca=Refusing(world)).keyless("t")
