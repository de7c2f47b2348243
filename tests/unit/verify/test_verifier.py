"""The verifier end to end on a synthetic instance: each check failing on its own."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
from typing import Any

import pytest

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, generate_signer
from lacre.models.trust_reader import TrustedRoot
from lacre.verify import AllOf, Identity, Issuer, ManagedKey, Thresholds, Verifier
from tests.unit.verify.world import (
    ARTIFACT,
    IDENTITY,
    ISSUER,
    NOW,
    Leaf,
    World,
    b64,
    dsse_bundle,
    encode,
    key_bundle,
    message_bundle,
    statement,
)
from tests.unit.x509.damaged import with_invalid_version

POLICY = AllOf(Identity(IDENTITY), Issuer(ISSUER))


def _flip(text: str, position: int = -5) -> str:
    """Flip one bit of the base64-encoded bytes ``text`` at byte ``position``."""
    data = bytearray(base64.b64decode(text))
    data[position] ^= 0x01
    return b64(bytes(data))


def _entry(bundle: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = bundle["verificationMaterial"]["tlogEntries"][0]
    return entry


def _fails(verifier: Verifier, bundle: dict[str, Any], match: str, **kwargs: Any) -> str:
    artifact = kwargs.pop("artifact", ARTIFACT)
    policy = kwargs.pop("policy", POLICY)
    with pytest.raises(VerificationError, match=match) as failure:
        verifier.verify(encode(bundle), artifact, policy)
    return str(failure.value)


def test_message_signature_bundle_verifies_by_bytes_and_by_digest(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    bundle = encode(message_bundle(world, leaf))
    result = verifier.verify(bundle, ARTIFACT, POLICY)
    assert result.certificate == leaf.certificate
    assert result.log_ids == (world.log_id,)
    assert [t.time for t in result.times] == [NOW + dt.timedelta(minutes=1)]
    digest = "sha256:" + hashlib.sha256(ARTIFACT).hexdigest()
    assert verifier.verify(bundle, digest, POLICY).certificate == leaf.certificate


def test_dsse_bundle_verifies_for_a_subject_of_the_statement(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    bundle = encode(dsse_bundle(world, leaf))
    verifier.verify(bundle, ARTIFACT, POLICY)
    verifier.verify(bundle, "sha256:" + hashlib.sha256(ARTIFACT).hexdigest(), POLICY)


def test_dsse_bundle_for_another_artifact_fails(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    bundle = dsse_bundle(world, leaf, payload=statement(b"something else"))
    message = _fails(verifier, bundle, "artifact is not a subject of the in-toto statement")
    subject = hashlib.sha256(b"something else").hexdigest()
    found = hashlib.sha256(ARTIFACT).hexdigest()
    assert f"expected one of a.txt (sha256:{subject}), found sha256:{found}" in message


def test_managed_key_bundle_verifies_with_its_key_only(world: World, verifier: Verifier) -> None:
    signer = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)
    bundle = key_bundle(world, signer)
    verifier.verify(encode(bundle), ARTIFACT, ManagedKey(signer.public_key))
    other = ManagedKey(generate_signer(KeyAlgorithm.ECDSA_P256_SHA256).public_key)
    message = _fails(verifier, bundle, "^artifact signature does not verify", policy=other)
    assert other.key.key_id.hex()[:16] in message
    _fails(verifier, bundle, "signed with a managed key, not a certificate")


@pytest.mark.parametrize(
    "algorithm",
    [
        KeyAlgorithm.ECDSA_P384_SHA384,
        KeyAlgorithm.ED25519,
        KeyAlgorithm.ECDSA_P521_SHA512,
    ],
)
def test_a_message_signature_by_each_key_type_is_checked_over_the_artifact(
    world: World, verifier: Verifier, algorithm: KeyAlgorithm
) -> None:
    signer = generate_signer(algorithm)
    policy = ManagedKey(signer.public_key)
    verifier.verify(encode(key_bundle(world, signer)), ARTIFACT, policy)
    wrong = key_bundle(world, signer, signed=ARTIFACT + b"!")
    _fails(verifier, wrong, "artifact signature does not verify", policy=policy)


def test_certificate_bundle_is_refused_under_a_managed_key(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    policy = ManagedKey(leaf.signer.public_key)
    _fails(verifier, message_bundle(world, leaf), "not a managed key", policy=policy)


def test_flipped_artifact_signature_fails_the_signature_check(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    good = leaf.signer.sign(ARTIFACT)
    bad = bytearray(good)
    bad[-3] ^= 0x01
    bundle = message_bundle(world, leaf, signature=bytes(bad))
    _fails(verifier, bundle, "artifact signature (does not verify|cannot be checked)")


def test_flipped_certificate_signature_fails_the_chain(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    bundle = message_bundle(world, leaf)
    material = bundle["verificationMaterial"]
    material["certificate"]["rawBytes"] = _flip(material["certificate"]["rawBytes"], -3)
    _fails(verifier, bundle, "certificate chain does not verify")


_EC_PUBLIC_KEY_OID = bytes.fromhex("06072a8648ce3d0201")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            lambda der: der.replace(_EC_PUBLIC_KEY_OID, _EC_PUBLIC_KEY_OID[:-1] + b"\x09"),
            "Unknown key type: 1.2.840.10045.2.9",
        ),
        (lambda der: der.replace(b"\x03\x42\x00\x04", b"\x03\x42\x00\x05"), "Invalid key"),
    ],
    ids=["unknown key algorithm", "malformed point"],
)
def test_a_signing_certificate_key_cryptography_cannot_load_is_a_verification_error(
    world: World, leaf: Leaf, verifier: Verifier, change: Any, reason: str
) -> None:
    bundle = message_bundle(world, leaf)
    certificate = bundle["verificationMaterial"]["certificate"]
    der = base64.b64decode(certificate["rawBytes"])
    assert change(der) != der
    certificate["rawBytes"] = b64(change(der))
    _fails(
        verifier, bundle, f"signing certificate key is unusable: certificate public key.*{reason}"
    )


def test_a_signing_certificate_of_an_unknown_version_is_a_verification_error(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    bundle = message_bundle(world, leaf)
    certificate = bundle["verificationMaterial"]["certificate"]
    certificate["rawBytes"] = b64(with_invalid_version(base64.b64decode(certificate["rawBytes"])))
    _fails(verifier, bundle, "is not a DER X.509 certificate: .*106 is not a valid X509 version")


def test_flipped_body_fails_the_inclusion_promise(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    bundle = message_bundle(world, leaf)
    _entry(bundle)["canonicalizedBody"] = _flip(_entry(bundle)["canonicalizedBody"], 40)
    _fails(verifier, bundle, r"inclusion promise \(SET\) for log index 1001 does not verify")


def test_flipped_set_fails(world: World, leaf: Leaf, verifier: Verifier) -> None:
    bundle = message_bundle(world, leaf)
    promise = _entry(bundle)["inclusionPromise"]
    promise["signedEntryTimestamp"] = _flip(promise["signedEntryTimestamp"])
    _fails(verifier, bundle, r"inclusion promise \(SET\)")


def test_flipped_proof_hash_fails_the_inclusion_proof(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    bundle = message_bundle(world, leaf)
    proof = _entry(bundle)["inclusionProof"]
    proof["hashes"][0] = _flip(proof["hashes"][0], 0)
    _fails(verifier, bundle, "inclusion proof does not verify")


def test_flipped_checkpoint_signature_fails(world: World, leaf: Leaf, verifier: Verifier) -> None:
    bundle = message_bundle(world, leaf)
    checkpoint = _entry(bundle)["inclusionProof"]["checkpoint"]
    text, _, line = checkpoint["envelope"].rstrip("\n").rpartition(" ")
    checkpoint["envelope"] = f"{text} {_flip(line)}\n"
    _fails(verifier, bundle, "checkpoint does not verify")


def test_checkpoint_for_another_tree_fails(world: World, leaf: Leaf, verifier: Verifier) -> None:
    bundle = message_bundle(world, leaf)
    proof = _entry(bundle)["inclusionProof"]
    proof["rootHash"] = _flip(proof["rootHash"], 0)
    _fails(verifier, bundle, "inclusion proof root hash differs from the checkpoint's")


def test_wrong_identity_names_both_identities(world: World, leaf: Leaf, verifier: Verifier) -> None:
    policy = AllOf(Identity("bob@example.com"), Issuer(ISSUER))
    message = _fails(verifier, message_bundle(world, leaf), "identity", policy=policy)
    assert message == (
        "certificate identity mismatch: expected bob@example.com, found alice@example.com"
    )


def test_wrong_issuer_names_both_issuers(world: World, leaf: Leaf, verifier: Verifier) -> None:
    policy = AllOf(Identity(IDENTITY), Issuer("https://other.example"))
    message = _fails(verifier, message_bundle(world, leaf), "issuer", policy=policy)
    assert message == (
        "certificate OIDC issuer mismatch: expected https://other.example, found " + ISSUER
    )


def test_signing_time_after_the_certificate_expired_fails(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    late = NOW + dt.timedelta(hours=1)
    bundle = message_bundle(world, leaf, integrated_time=late)
    message = _fails(verifier, bundle, "outside the certificate's validity")
    assert late.isoformat() in message


def test_unknown_log_id_leaves_no_trusted_time(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    bundle = message_bundle(world, leaf)
    _entry(bundle)["logId"]["keyId"] = b64(b"\x07" * 32)
    message = _fails(verifier, bundle, "no verified signing time")
    assert "unknown log" in message


def test_untrusted_ca_fails_the_chain(world: World, leaf: Leaf) -> None:
    other = World()
    root = other.trusted_root()
    root["tlogs"] = world.trusted_root()["tlogs"]
    verifier = Verifier(TrustedRoot.from_json(root))
    _fails(verifier, message_bundle(world, leaf), "certificate chain does not verify")


def test_sct_from_an_unknown_ct_log_fails(world: World, leaf: Leaf) -> None:
    root = world.trusted_root()
    root["ctlogs"] = World().trusted_root()["ctlogs"]
    verifier = Verifier(TrustedRoot.from_json(root))
    _fails(verifier, message_bundle(world, leaf), "not enough verified SCTs")


def test_body_for_another_artifact_fails_even_with_valid_log_evidence(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    other = b"another artifact"
    bundle = message_bundle(world, leaf)  # its signature is over ARTIFACT ...
    logged = message_bundle(world, leaf, artifact=other)  # ... the entry for another artifact
    bundle["verificationMaterial"]["tlogEntries"] = logged["verificationMaterial"]["tlogEntries"]
    message = _fails(verifier, bundle, "log entry does not match the bundle: artifact digest")
    assert hashlib.sha256(other).hexdigest() in message


def test_message_digest_hint_must_match_the_artifact(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    bundle = message_bundle(world, leaf)
    bundle["messageSignature"]["messageDigest"]["digest"] = b64(b"\x00" * 32)
    message = _fails(verifier, bundle, "artifact digest does not match the bundle's message digest")
    actual = hashlib.sha256(ARTIFACT).hexdigest()
    assert f"expected sha256:{'00' * 32}, found sha256:{actual}" in message


def test_a_changed_artifact_is_named_before_any_other_check(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    root = world.trusted_root()
    root["ctlogs"] = World().trusted_root()["ctlogs"]  # the SCTs would fail too
    untrusting = Verifier(TrustedRoot.from_json(root))
    bundle = message_bundle(world, leaf)
    for checking in (verifier, untrusting):
        _fails(checking, bundle, "^artifact digest does not match", artifact=b"changed")


def test_bundle_chain_with_a_root_is_refused(world: World, leaf: Leaf, verifier: Verifier) -> None:
    bundle = message_bundle(world, leaf)
    material = bundle["verificationMaterial"]
    root_der = world.trusted_root()["certificateAuthorities"][0]["certChain"]["certificates"]
    material["x509CertificateChain"] = {
        "certificates": [material.pop("certificate"), *root_der],
    }
    bundle["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2"
    _fails(verifier, bundle, "self-signed")


def test_v01_and_v02_bundles_with_a_leaf_chain_verify(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    for version in ("0.1", "0.2"):
        bundle = message_bundle(world, leaf)
        material = bundle["verificationMaterial"]
        material["x509CertificateChain"] = {"certificates": [material.pop("certificate")]}
        bundle["mediaType"] = f"application/vnd.dev.sigstore.bundle+json;version={version}"
        verifier.verify(encode(bundle), ARTIFACT, POLICY)


def test_bundle_without_any_time_source_fails(world: World, leaf: Leaf, verifier: Verifier) -> None:
    bundle = message_bundle(world, leaf)
    del _entry(bundle)["inclusionPromise"]
    _fails(verifier, bundle, "no verified signing time")


def test_tlog_threshold_above_the_entries_fails(world: World, leaf: Leaf) -> None:
    verifier = Verifier(TrustedRoot.from_json(world.trusted_root()), thresholds=Thresholds(tlogs=2))
    _fails(verifier, message_bundle(world, leaf), "too few transparency log entries")


def test_duplicate_log_entries_are_refused(world: World, leaf: Leaf, verifier: Verifier) -> None:
    bundle = message_bundle(world, leaf)
    entries = bundle["verificationMaterial"]["tlogEntries"]
    entries.append(copy.deepcopy(entries[0]))
    _fails(verifier, bundle, "duplicate transparency log entries")


def test_thresholds_below_one_are_refused() -> None:
    with pytest.raises(InvalidInput, match="threshold tlogs"):
        Thresholds(tlogs=0)


def test_malformed_bundle_is_invalid_input(verifier: Verifier) -> None:
    with pytest.raises(InvalidInput, match="bundle is not valid JSON"):
        verifier.verify(b'{"mediaType": ', ARTIFACT, POLICY)


def test_malformed_digest_is_invalid_input(world: World, leaf: Leaf, verifier: Verifier) -> None:
    with pytest.raises(InvalidInput, match="sha256:<64 hex digits>"):
        verifier.verify(encode(message_bundle(world, leaf)), "sha256:abc", POLICY)


def test_v01_proof_without_checkpoint_is_checked_against_its_root_hash(
    world: World, leaf: Leaf, verifier: Verifier
) -> None:
    bundle = message_bundle(world, leaf)
    material = bundle["verificationMaterial"]
    material["x509CertificateChain"] = {"certificates": [material.pop("certificate")]}
    bundle["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1"
    proof = _entry(bundle)["inclusionProof"]
    del proof["checkpoint"]
    verifier.verify(encode(bundle), ARTIFACT, POLICY)
    proof["hashes"][1] = _flip(proof["hashes"][1], 3)
    _fails(verifier, bundle, "inclusion proof does not verify")
