"""The Rekor v1 and v2 clients: proposed entries and answers."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import httpx
import pytest

from lacre.clients.rekor_v1 import RekorV1Client, entry_from_answer
from lacre.clients.rekor_v2 import RekorV2Client
from lacre.dsse import Envelope, Signature
from lacre.errors import InvalidInput, NetworkError
from lacre.keys import KeyAlgorithm, generate_signer
from tests.unit.clients.mock import Recorder, answer
from tests.unit.verify.world import World, hashedrekord_body

DIGEST = hashlib.sha256(b"artifact").digest()


def _v1_answer(world: World, body: bytes) -> dict[str, Any]:
    tle = world.log_entry(body, integrated_time=1700000000)
    proof = tle["inclusionProof"]
    return {
        "e" * 80: {
            "body": base64.b64encode(body).decode(),
            "integratedTime": 1700000000,
            "logID": world.log_id.hex(),
            "logIndex": 1001,
            "verification": {
                "inclusionProof": {
                    "checkpoint": proof["checkpoint"]["envelope"],
                    "hashes": [base64.b64decode(h).hex() for h in proof["hashes"]],
                    "logIndex": 1,
                    "rootHash": base64.b64decode(proof["rootHash"]).hex(),
                    "treeSize": 5,
                },
                "signedEntryTimestamp": tle["inclusionPromise"]["signedEntryTimestamp"],
            },
        }
    }


def test_v1_hashedrekord_request_and_entry() -> None:
    world, signer = World(), generate_signer()
    leaf = world.leaf()
    body = hashedrekord_body(DIGEST, b"sig", leaf.pem)
    recorder = Recorder(answer(201, json=_v1_answer(world, body)))
    client = RekorV1Client("https://rekor.test", http=recorder.client())
    entry = client.log_message(
        algorithm="sha256", digest=DIGEST, signature=b"sig", verifier=leaf.certificate
    )
    proposed = json.loads(recorder.requests[0].content)
    assert str(recorder.requests[0].url) == "https://rekor.test/api/v1/log/entries"
    assert proposed["kind"] == "hashedrekord" and proposed["apiVersion"] == "0.0.1"
    assert proposed["spec"]["data"]["hash"] == {"algorithm": "sha256", "value": DIGEST.hex()}
    assert base64.b64decode(proposed["spec"]["signature"]["publicKey"]["content"]) == leaf.pem
    assert entry.log_id == world.log_id and entry.log_index == 1001
    assert entry.integrated_time == 1700000000
    assert entry.kind_version.kind == "hashedrekord"
    assert entry.inclusion_promise is not None
    assert entry.inclusion_proof is not None and entry.inclusion_proof.tree_size == 5
    assert entry.canonicalized_body == body
    assert signer.public_key.pem  # a key verifier is accepted too
    client.log_message(
        algorithm="sha256", digest=DIGEST, signature=b"s", verifier=signer.public_key
    )
    second = json.loads(recorder.requests[1].content)
    assert (
        base64.b64decode(second["spec"]["signature"]["publicKey"]["content"])
        == signer.public_key.pem
    )


def test_v1_dsse_request_carries_the_envelope_as_a_string() -> None:
    world = World()
    leaf = world.leaf()
    recorder = Recorder(
        answer(201, json=_v1_answer(world, b'{"kind":"dsse","apiVersion":"0.0.1"}'))
    )
    envelope = Envelope(b"{}", "application/vnd.in-toto+json", (Signature(b"sig"),))
    RekorV1Client("https://rekor.test", http=recorder.client()).log_dsse(
        envelope=envelope, verifier=leaf.certificate
    )
    proposed = json.loads(recorder.requests[0].content)
    content = proposed["spec"]["proposedContent"]
    assert Envelope.from_json(content["envelope"]) == envelope
    assert base64.b64decode(content["verifiers"][0]) == leaf.pem


def test_v1_duplicate_is_fetched_from_its_location() -> None:
    world = World()
    body = hashedrekord_body(DIGEST, b"sig", world.leaf().pem)

    def log(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(
                409,
                json={"code": 409, "message": "exists"},
                headers={"Location": "/api/v1/log/entries/abc"},
            )
        return httpx.Response(200, json=_v1_answer(world, body))

    recorder = Recorder(log)
    key = generate_signer().public_key
    entry = RekorV1Client("https://rekor.test", http=recorder.client()).log_message(
        algorithm="sha256", digest=DIGEST, signature=b"s", verifier=key
    )
    assert entry.canonicalized_body == body
    assert str(recorder.requests[1].url) == "https://rekor.test/api/v1/log/entries/abc"


def test_v1_duplicate_elsewhere_is_refused() -> None:
    recorder = Recorder(answer(409, json={}, headers={"Location": "https://evil.test/x"}))
    with pytest.raises(NetworkError, match="elsewhere"):
        RekorV1Client("https://rekor.test", http=recorder.client()).create_entry({})


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.pop("verification"),
        lambda e: e.update(body="!!notbase64"),
        lambda e: e.update(logID="zz"),
        lambda e: e["verification"]["inclusionProof"].update(hashes=["nothex"]),
        lambda e: e["verification"]["inclusionProof"].update(rootHash="00"),
        lambda e: e["verification"]["inclusionProof"].pop("checkpoint"),
        lambda e: e.update(logIndex="many"),
        lambda e: e.update(body=base64.b64encode(b"[]").decode()),
    ],
)
def test_v1_malformed_answers_are_refused(mutate: Any) -> None:
    world = World()
    document = _v1_answer(world, hashedrekord_body(DIGEST, b"s", world.leaf().pem))
    mutate(next(iter(document.values())))
    with pytest.raises(NetworkError, match="malformed"):
        entry_from_answer(document)
    with pytest.raises(NetworkError, match="one entry"):
        entry_from_answer({})


def test_v1_server_errors_carry_the_message() -> None:
    client = RekorV1Client(
        "https://rekor.test",
        http=Recorder(
            answer(400, json={"code": 400, "message": "signature does not verify"})
        ).client(),
    )
    with pytest.raises(InvalidInput, match="signature does not verify"):
        client.create_entry({})


def _v2_entry(world: World) -> dict[str, Any]:
    entry = world.log_entry(
        b'{"kind":"hashedrekord","apiVersion":"0.0.2"}', integrated_time=0, version="0.0.2"
    )
    entry.pop("inclusionPromise")
    return entry


def test_v2_request_and_answer() -> None:
    world = World()
    leaf = world.leaf()
    recorder = Recorder(answer(201, json=_v2_entry(world)))
    client = RekorV2Client("https://rekor.test/", http=recorder.client())
    entry = client.log_message(
        algorithm="sha256", digest=DIGEST, signature=b"sig", verifier=leaf.certificate
    )
    request = json.loads(recorder.requests[0].content)["hashedRekordRequestV002"]
    assert str(recorder.requests[0].url) == "https://rekor.test/api/v2/log/entries"
    assert base64.b64decode(request["digest"]) == DIGEST
    verifier = request["signature"]["verifier"]
    assert base64.b64decode(verifier["x509Certificate"]["rawBytes"]) == leaf.der
    assert verifier["keyDetails"] == "PKIX_ECDSA_P256_SHA_256"
    assert entry.kind_version.version == "0.0.2"


def test_v2_dsse_is_a_hashedrekord_over_the_pae() -> None:
    world = World()
    signer = generate_signer(KeyAlgorithm.ECDSA_P384_SHA384)
    recorder = Recorder(answer(201, json=_v2_entry(world)))
    envelope = Envelope(b"{}", "application/vnd.in-toto+json", (Signature(b"sig"),))
    RekorV2Client("https://rekor.test", http=recorder.client()).log_dsse(
        envelope=envelope, verifier=signer.public_key
    )
    request = json.loads(recorder.requests[0].content)["hashedRekordRequestV002"]
    assert base64.b64decode(request["digest"]) == hashlib.sha384(envelope.pae()).digest()
    verifier = request["signature"]["verifier"]
    assert verifier["keyDetails"] == "PKIX_ECDSA_P384_SHA_384"
    assert base64.b64decode(verifier["publicKey"]["rawBytes"]) == signer.public_key.spki_der


def test_v2_refuses_a_digest_of_another_hash_and_bad_answers() -> None:
    key = generate_signer().public_key
    client = RekorV2Client(
        "https://rekor.test", http=Recorder(answer(201, json={"logIndex": "x"})).client()
    )
    with pytest.raises(InvalidInput, match="default hash"):
        client.log_message(algorithm="sha512", digest=b"x" * 64, signature=b"s", verifier=key)
    with pytest.raises(NetworkError, match="malformed"):
        client.log_message(algorithm="sha256", digest=DIGEST, signature=b"s", verifier=key)
    server_error = RekorV2Client(
        "https://rekor.test", http=Recorder(answer(500, content=b"oops")).client()
    )
    with pytest.raises(NetworkError, match="oops"):
        server_error.log_message(algorithm="sha256", digest=DIGEST, signature=b"s", verifier=key)
