"""What a verifier remembers between bundles, and that remembering never hides a failure."""

from __future__ import annotations

import base64
import hashlib
import textwrap
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lacre.errors import VerificationError
from lacre.models.trust_reader import TrustedRoot
from lacre.verify import AllOf, Identity, Issuer, Verifier
from lacre.verify import chain as chain_module
from lacre.verify import tlog as tlog_module
from lacre.verify.anchors import TrustAnchors
from lacre.verify.lru import Lru
from lacre.verify.policy import issuer_of
from lacre.x509.fulcio import ISSUER_OID, ISSUER_V2_OID, encode_raw, encode_utf8string
from tests.unit.verify.world import (
    ARTIFACT,
    IDENTITY,
    ISSUER,
    NOW,
    Leaf,
    World,
    b64,
    encode,
    hashedrekord_body,
    message_bundle,
)

POLICY = AllOf(Identity(IDENTITY), Issuer(ISSUER))


def _fresh(world: World) -> Verifier:
    return Verifier(TrustedRoot.from_json(world.trusted_root()))


def _count(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    calls = [0]
    original = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_lru_keeps_the_most_recently_used_items() -> None:
    cache: Lru[str, int] = Lru(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c"), len(cache)) == (1, 3, 2)


def test_the_signing_certificate_signature_is_checked_once_per_certificate(
    world: World, leaf: Leaf, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count(monkeypatch, chain_module, "check_end_certificate")
    verifier = _fresh(world)
    verifier.verify(encode(message_bundle(world, leaf)), ARTIFACT, POLICY)
    verifier.verify(encode(message_bundle(world, leaf, artifact=b"other")), b"other", POLICY)
    assert calls[0] == 1
    _fresh(world).verify(encode(message_bundle(world, leaf)), ARTIFACT, POLICY)
    assert calls[0] == 2, "each verifier has its own memory of signing certificates"


def test_a_remembered_certificate_does_not_excuse_a_bad_artifact_signature(
    world: World, leaf: Leaf
) -> None:
    verifier = _fresh(world)
    verifier.verify(encode(message_bundle(world, leaf)), ARTIFACT, POLICY)
    forged = message_bundle(world, leaf, signature=leaf.signer.sign(b"something else"))
    with pytest.raises(VerificationError, match="signature does not verify"):
        verifier.verify(encode(forged), ARTIFACT, POLICY)


def test_a_failing_certificate_is_checked_and_refused_every_time(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    stranger = World().leaf()  # issued by another CA, with an SCT from another CT log
    calls = _count(monkeypatch, chain_module, "check_end_certificate")
    verifier = _fresh(world)
    for _ in range(2):
        with pytest.raises(VerificationError, match="certificate chain does not verify"):
            verifier.verify(encode(message_bundle(world, stranger)), ARTIFACT, POLICY)
    assert calls[0] == 2


def test_the_trusted_chain_is_checked_once_per_process(
    world: World, leaf: Leaf, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fresh(world).verify(encode(message_bundle(world, leaf)), ARTIFACT, POLICY)
    calls = _count(monkeypatch, chain_module, "_check_trusted_chain")
    _fresh(world).verify(encode(message_bundle(world, leaf)), ARTIFACT, POLICY)
    assert calls[0] == 0


def test_a_broken_trusted_chain_is_refused_every_time(world: World, leaf: Leaf) -> None:
    document = world.trusted_root()
    authority = document["certificateAuthorities"][0]
    foreign_root = World().chain.root.public_bytes(serialization.Encoding.DER)
    authority["certChain"]["certificates"][-1] = {"rawBytes": b64(foreign_root)}
    verifier = Verifier(TrustedRoot.from_json(document))
    for _ in range(2):
        with pytest.raises(VerificationError, match="is not signed by"):
            verifier.verify(encode(message_bundle(world, leaf)), ARTIFACT, POLICY)


def test_a_verified_checkpoint_is_remembered_by_its_bytes(
    world: World, leaf: Leaf, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count(monkeypatch, tlog_module, "open_checkpoint")
    verifier = _fresh(world)
    bundle = encode(message_bundle(world, leaf))
    verifier.verify(bundle, ARTIFACT, POLICY)
    verifier.verify(bundle, ARTIFACT, POLICY)
    assert calls[0] == 1


def test_a_changed_checkpoint_is_verified_again_and_refused(world: World, leaf: Leaf) -> None:
    verifier = _fresh(world)
    document = message_bundle(world, leaf)
    verifier.verify(encode(document), ARTIFACT, POLICY)
    proof = document["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    proof["checkpoint"]["envelope"] = proof["checkpoint"]["envelope"].replace(" - 42", " - 43")
    with pytest.raises(VerificationError, match="checkpoint does not verify"):
        verifier.verify(encode(document), ARTIFACT, POLICY)


def test_the_issuer_key_hash_is_the_sha256_of_the_issuer_key(world: World) -> None:
    anchors = TrustAnchors(TrustedRoot.from_json(world.trusted_root()))
    issuer = world.chain.intermediate
    spki = issuer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    first = anchors.issuer_key_hash(issuer)
    assert first == hashlib.sha256(spki).digest()
    assert anchors.issuer_key_hash(issuer) is first  # remembered, not computed again


def _with_body_pem(world: World, leaf: Leaf, pem: bytes) -> dict[str, Any]:
    signature = leaf.signer.sign(ARTIFACT)
    body = hashedrekord_body(hashlib.sha256(ARTIFACT).digest(), signature, pem)
    document = message_bundle(world, leaf, signature=signature)
    entry = document["verificationMaterial"]["tlogEntries"][0]
    fresh = world.log_entry(body, integrated_time=int(entry["integratedTime"]))
    document["verificationMaterial"]["tlogEntries"][0] = fresh
    return document


def test_a_body_certificate_in_another_pem_layout_still_matches(world: World, leaf: Leaf) -> None:
    text = base64.b64encode(leaf.der).decode()
    pem = "-----BEGIN CERTIFICATE-----\r\n" + "\r\n".join(textwrap.wrap(text, 76))
    pem += "\r\n-----END CERTIFICATE-----\r\n"
    document = _with_body_pem(world, leaf, pem.encode())
    _fresh(world).verify(encode(document), ARTIFACT, POLICY)


def test_a_body_with_another_certificate_is_refused(world: World, leaf: Leaf) -> None:
    document = _with_body_pem(world, leaf, world.leaf().pem)
    with pytest.raises(VerificationError, match="signing certificate"):
        _fresh(world).verify(encode(document), ARTIFACT, POLICY)


def _certificate_with(extensions: list[tuple[x509.ObjectIdentifier, bytes]]) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "test")]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW)
    )
    for oid, value in extensions:
        builder = builder.add_extension(x509.UnrecognizedExtension(oid, value), critical=False)
    return builder.sign(key, hashes.SHA256())


def test_the_issuer_prefers_the_der_extension() -> None:
    both = [(ISSUER_OID, encode_raw("https://a")), (ISSUER_V2_OID, encode_utf8string("https://a"))]
    assert issuer_of(_certificate_with(both)) == "https://a"
    assert issuer_of(_certificate_with(both[:1])) == "https://a"
    assert issuer_of(_certificate_with(both[1:])) == "https://a"


def test_disagreeing_issuer_extensions_are_refused() -> None:
    both = [(ISSUER_OID, encode_raw("https://a")), (ISSUER_V2_OID, encode_utf8string("https://b"))]
    with pytest.raises(VerificationError, match="disagree"):
        issuer_of(_certificate_with(both))


def test_a_missing_or_malformed_issuer_is_refused() -> None:
    with pytest.raises(VerificationError, match="no Fulcio issuer"):
        issuer_of(_certificate_with([]))
    with pytest.raises(VerificationError, match="certificate claims"):
        issuer_of(_certificate_with([(ISSUER_V2_OID, b"\x0c\x05ab")]))
