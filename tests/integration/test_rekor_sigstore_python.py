"""sigstore-python against lacre's Rekor v1 and v2, and every proof checked independently.

sigstore-python uploads through its own Rekor clients (``RekorClient`` for v1,
``RekorV2Client`` for v2); what comes back is verified with sigstore-python's
own code against the ``trusted_root.json`` the server writes: the complete
``Verifier`` for v1 entries (signing certificates come from
:class:`~tests.integration.signing_material.IssuingCA`, lacre's CA does not
exist yet), and for v2 entries, which need a timestamp authority for the
complete path, the log-entry checks the ``Verifier`` runs (inclusion proof,
signed checkpoint) plus its check that the entry matches the signed artifact.

Inclusion proofs are checked with sigstore-python's RFC 6962 verifier,
consistency proofs with the RFC 9162 §2.1.4.2 algorithm written out below, and
every root hash against a tree rebuilt from the logged entries with pymerkle.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
import rekor_types
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pymerkle import InmemoryTree
from sigstore import dsse
from sigstore._internal.merkle import verify_merkle_inclusion
from sigstore._internal.rekor import EntryRequestBody, RekorClientError, _hashedrekord_from_parts
from sigstore._internal.rekor.checkpoint import SignedCheckpoint, verify_checkpoint
from sigstore._internal.rekor.client import RekorClient
from sigstore._internal.rekor.client_v2 import RekorV2Client
from sigstore._internal.trust import KeyringPurpose, RekorKeyring
from sigstore._utils import KeyID, sha256_digest
from sigstore.errors import VerificationError
from sigstore.hashes import Hashed
from sigstore.models import Bundle, TransparencyLogEntry, TrustedRoot
from sigstore.verify.policy import Identity
from sigstore.verify.verifier import (
    Verifier,
    _validate_hashedrekord_v002_dsse_entry_body,
    _validate_hashedrekord_v002_entry_body,
)
from sigstore_models.rekor.v1 import TransparencyLogEntry as TransparencyLogEntryMessage
from sigstore_models.trustroot import v1 as trustroot_v1

from tests.integration.servers import Server
from tests.integration.signing_material import (
    OIDC_ISSUER,
    CertSigner,
    IssuingCA,
    KeySigner,
    trusted_root_naming,
)

Json = dict[str, Any]
ENTRIES = "/api/v1/log/entries"
V1_TLOG, V2_TLOG = 0, 1
"""Positions of the Rekor v1 tree and of the v2 (main) log in the trusted root's tlogs."""


# --- Independent Merkle tree arithmetic ------------------------------------------------------


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def consistency_holds(
    first: int, second: int, first_hash: bytes, second_hash: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2 consistency-proof verification, step by step.

    Equal sizes (which the RFC algorithm does not cover) are consistent with an
    empty proof and equal roots, as SUBPROOF(m, D[m], true) is empty (§2.1.4.1).
    """
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_hash == second_hash
    if not proof:  # step 1
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # step 2: first is an exact power of two
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_hash and sr == second_hash and sn == 0  # step 7


class TreeMirror:
    """The log's tree rebuilt from its entries with pymerkle (RFC 6962 hashing)."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._tree = InmemoryTree(algorithm="sha256")
        for leaf in leaves:
            self._tree.append_entry(leaf)

    def root(self, size: int) -> bytes:
        return cast(bytes, self._tree.get_root(size))


def test_the_reference_consistency_verifier_accepts_and_rejects_what_it_should() -> None:
    leaves = [f"leaf {i}".encode() for i in range(7)]
    mirror = TreeMirror(leaves)
    h = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
    # Hand-derived proofs (RFC 9162 §2.1.4.1) in the 7-leaf tree of RFC 9162 §2.1.5.
    ab, cd, ef = _node(h[0], h[1]), _node(h[2], h[3]), _node(h[4], h[5])
    proofs = {(3, 7): [h[2], h[3], ab, _node(ef, h[6])], (4, 7): [_node(ef, h[6])]}
    proofs[(6, 7)] = [ef, h[6], _node(ab, cd)]
    for (m, n), proof in proofs.items():
        assert consistency_holds(m, n, mirror.root(m), mirror.root(n), proof), (m, n)
        if len(proof) > 1:
            assert not consistency_holds(m, n, mirror.root(m), mirror.root(n), proof[::-1])
        assert not consistency_holds(m, n, mirror.root(m), mirror.root(n), proof[:-1])
        assert not consistency_holds(m, n, mirror.root(m), mirror.root(n), [*proof, h[0]])
        assert not consistency_holds(m, n, mirror.root(m), mirror.root(n - 1), proof)
    assert consistency_holds(5, 5, mirror.root(5), mirror.root(5), [])
    assert not consistency_holds(5, 5, mirror.root(5), mirror.root(5), [h[0]])


# --- Reading answers the way sigstore-python does --------------------------------------------


def only_item(answer: Json) -> tuple[str, Json]:
    """The single (entry ID, entry) pair of a Rekor v1 LogEntry map."""
    assert len(answer) == 1, answer
    ((entry_id, entry),) = answer.items()
    return entry_id, cast(Json, entry)


def log_keyring(root_json: Path, *, keep: Iterable[int] = (V1_TLOG, V2_TLOG)) -> RekorKeyring:
    """sigstore-python's Rekor keyring for a trusted root, optionally with fewer tlogs."""
    data = json.loads(root_json.read_text())
    data["tlogs"] = [tlog for i, tlog in enumerate(data["tlogs"]) if i in set(keep)]
    root = TrustedRoot(trustroot_v1.TrustedRoot.from_json(json.dumps(data)))
    return root.rekor_keyring(KeyringPurpose.VERIFY)


def full_trust(server: Server, ca: IssuingCA) -> TrustedRoot:
    """The server's trusted root (its log keys) plus the test CA and its CT log."""
    return TrustedRoot(
        trustroot_v1.TrustedRoot.from_json(trusted_root_naming(server.trusted_root, ca))
    )


def tlog_key_id(server: Server, position: int) -> bytes:
    root = json.loads(server.trusted_root.read_text())
    return base64.b64decode(root["tlogs"][position]["logId"]["keyId"])


def checkpoint_of(entry: TransparencyLogEntry) -> SignedCheckpoint:
    envelope = entry._inner.inclusion_proof.checkpoint
    assert envelope is not None
    return SignedCheckpoint.from_text(envelope.envelope)


def assert_proof_matches_checkpoint(entry: TransparencyLogEntry) -> None:
    proof = entry._inner.inclusion_proof
    checkpoint = checkpoint_of(entry).checkpoint
    assert (checkpoint.log_size, checkpoint.log_hash) == (proof.tree_size, proof.root_hash.hex())


def assert_v1_entry_verifies(entry: TransparencyLogEntry, keyring: RekorKeyring) -> None:
    """sigstore-python's log-entry checks, each asserted to have run."""
    verify_merkle_inclusion(entry)
    verify_checkpoint(keyring, entry)
    entry._verify_set(keyring)
    entry._verify(keyring)
    assert_proof_matches_checkpoint(entry)


class LogOnlyBundle(Bundle):
    """A sigstore-python bundle without its demand for a signed time (no TSA exists yet).

    Rekor v2 entries carry no inclusion promise, so a real bundle needs an RFC 3161
    timestamp; this one only serves sigstore-python's entry-versus-artifact checks.
    """

    def _verify(self) -> None:
        material = self._inner.verification_material
        assert material.certificate is not None
        self._signing_certificate = x509.load_der_x509_certificate(material.certificate.raw_bytes)
        self._log_entry = TransparencyLogEntry(material.tlog_entries[0])


def statement_about(artifact: bytes) -> dsse.Statement:
    document = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {"name": "artifact", "digest": {"sha256": hashlib.sha256(artifact).hexdigest()}}
        ],
        "predicateType": "https://lacre.test/predicate/v1",
        "predicate": {"note": "made by the lacre tests"},
    }
    return dsse.Statement(json.dumps(document, sort_keys=True).encode())


def v2_entry(answer: Json) -> TransparencyLogEntry:
    """A Rekor v2 answer read as ``RekorV2Client.create_entry`` reads it."""
    return TransparencyLogEntry(TransparencyLogEntryMessage.from_dict(answer))


def flip_b64(value: str, at: int = 10) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[at] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def flip_hex(value: str) -> str:
    return ("1" if value[0] == "0" else "0") + value[1:]


def corrupt_checkpoint_signature(note: str) -> str:
    text, signatures = note.split("\n\n")
    dash, name, signature = signatures.rstrip("\n").split(" ")
    return f"{text}\n\n{dash} {name} {flip_b64(signature, at=12)}\n"


def corrupt_checkpoint_root(note: str) -> str:
    text, signatures = note.split("\n\n")
    origin, size, root = text.split("\n")[:3]
    other = base64.b64encode(hashlib.sha256(root.encode()).digest()).decode()
    return f"{origin}\n{size}\n{other}\n\n{signatures}"


V1_REQUESTS = RekorClient("http://lacre.invalid")
"""sigstore-python's v1 client, used here only to build requests (it sends nothing)."""


@dataclass(frozen=True)
class Signed:
    """An artifact and its signature by ``signer``."""

    artifact: bytes
    signer: CertSigner
    signature: bytes

    @classmethod
    def by(cls, signer: CertSigner, artifact: bytes) -> Signed:
        return cls(artifact, signer, signer.sign(artifact))

    @property
    def hashed(self) -> Hashed:
        return sha256_digest(self.artifact)

    def v1_request(self) -> EntryRequestBody:
        return V1_REQUESTS._build_hashed_rekord_request(
            self.hashed, self.signature, self.signer.certificate
        )

    def v2_request(self) -> EntryRequestBody:
        return RekorV2Client._build_hashed_rekord_request(
            self.hashed, self.signature, self.signer.certificate
        )


# --- Rekor v1 through sigstore-python ---------------------------------------------------------


def test_v1_entries_uploaded_by_sigstore_python_pass_its_complete_verifier(
    dev_server: Server,
) -> None:
    ca = IssuingCA()
    alice = ca.issue("alice@example.com")
    client = RekorClient(dev_server.url)
    verifier = Verifier(trusted_root=full_trust(dev_server, ca))
    policy = Identity(identity=alice.email, issuer=OIDC_ISSUER)
    keyring = log_keyring(dev_server.trusted_root, keep=[V1_TLOG])

    signed = [Signed.by(alice, f"artifact {i}".encode()) for i in range(5)]
    for index, item in enumerate(signed):
        request = client._build_hashed_rekord_request(
            item.hashed, item.signature, alice.certificate
        )
        entry = client.create_entry(request)
        assert entry._inner.log_index == index
        assert entry._inner.kind_version.kind == "hashedrekord"
        assert entry._inner.kind_version.version == "0.0.1"
        assert entry._inner.log_id.key_id == tlog_key_id(dev_server, V1_TLOG)
        assert_v1_entry_verifies(entry, keyring)
        bundle = Bundle.from_parts(alice.certificate, item.signature, entry)
        verifier.verify_artifact(item.artifact, bundle, policy)
        # The bundle survives sigstore-python's own serialization round trip.
        verifier.verify_artifact(item.artifact, Bundle.from_json(bundle.to_json()), policy)
        with pytest.raises(VerificationError):
            verifier.verify_artifact(b"another artifact", bundle, policy)
        with pytest.raises(VerificationError):
            verifier.verify_artifact(
                item.artifact, bundle, Identity(identity="bob@example.com", issuer=OIDC_ISSUER)
            )

    statement = statement_about(b"artifact 0")
    envelope = dsse._sign(alice.private_key, statement)
    dsse_entry = client.create_entry(client._build_dsse_request(envelope, alice.certificate))
    assert (dsse_entry._inner.kind_version.kind, dsse_entry._inner.kind_version.version) == (
        "dsse",
        "0.0.1",
    )
    assert_v1_entry_verifies(dsse_entry, keyring)
    payload_type, payload = verifier.verify_dsse(
        Bundle._from_parts(alice.certificate, envelope, dsse_entry), policy
    )
    assert (payload_type, payload) == (dsse.Envelope._TYPE, statement._contents)

    # An entry logged for one artifact does not vouch for another signature.
    other = Signed.by(alice, b"never logged")
    wrong = Bundle.from_parts(alice.certificate, other.signature, entry)
    with pytest.raises(VerificationError):
        verifier.verify_artifact(other.artifact, wrong, policy)

    info = client.log.get()
    assert info.tree_size == len(signed) + 1
    head = SignedCheckpoint.from_text(info.signed_tree_head)
    assert head.checkpoint.origin == f"{urlsplit(dev_server.url).hostname} - {info.tree_id}"
    assert (head.checkpoint.log_size, head.checkpoint.log_hash) == (
        info.tree_size,
        info.root_hash,
    )
    head.signed_note.verify(keyring, KeyID(tlog_key_id(dev_server, V1_TLOG)))
    assert head.signed_note.signatures[0].name == urlsplit(dev_server.url).hostname


def altered(document: Json, path: str, change: Callable[[Any], Any]) -> Json:
    """A deep copy of ``document`` with the value at ``path`` (``a/b/0``) replaced by ``change``."""
    result = copy.deepcopy(document)
    *parents, last = path.split("/")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: int | str = int(last) if isinstance(node, list) else last
    node[key] = change(node[key])
    return result


def one_more_byte(b64_body: str) -> str:
    return base64.b64encode(base64.b64decode(b64_body) + b" ").decode()


Corruption = tuple[str, Callable[[Any], Any]]
V1_CORRUPTIONS: dict[str, Corruption] = {
    "a hash of the inclusion proof": ("verification/inclusionProof/hashes/0", flip_hex),
    "the proof's root hash": ("verification/inclusionProof/rootHash", flip_hex),
    "the proof's log index": ("verification/inclusionProof/logIndex", lambda i: i - 1),
    "a byte of the SET": ("verification/signedEntryTimestamp", flip_b64),
    "the integrated time": ("integratedTime", lambda t: t + 1),
    "the log index": ("logIndex", lambda i: i + 1),
    "the log ID": ("logID", flip_hex),
    "the checkpoint signature": (
        "verification/inclusionProof/checkpoint",
        corrupt_checkpoint_signature,
    ),
    "the checkpoint root": ("verification/inclusionProof/checkpoint", corrupt_checkpoint_root),
    "the body": ("body", one_more_byte),
}


def test_sigstore_python_rejects_v1_entries_altered_after_the_server_answered(
    dev_server: Server,
) -> None:
    ca = IssuingCA()
    alice = ca.issue("alice@example.com")
    signed = [Signed.by(alice, f"artifact {i}".encode()) for i in range(3)]
    answers = []
    for item in signed:
        response = dev_server.http.post(ENTRIES, json=item.v1_request())
        assert response.status_code == 201, response.text
        answers.append(response.json())
    keyring = log_keyring(dev_server.trusted_root)
    verifier = Verifier(trusted_root=full_trust(dev_server, ca))
    policy = Identity(identity=alice.email, issuer=OIDC_ISSUER)

    answer, item = answers[1], signed[1]  # index 1 in a tree of 2: a one-hash proof
    assert only_item(answer)[1]["verification"]["inclusionProof"]["hashes"]
    assert_v1_entry_verifies(TransparencyLogEntry._from_v1_response(answer), keyring)
    entry_id, raw = only_item(answer)
    for what, (path, change) in V1_CORRUPTIONS.items():
        entry = TransparencyLogEntry._from_v1_response({entry_id: altered(raw, path, change)})
        with pytest.raises(VerificationError):
            entry._verify(keyring)
            pytest.fail(f"sigstore-python accepted an entry with a corrupted {what}")
        bundle = Bundle.from_parts(alice.certificate, item.signature, entry)
        with pytest.raises(VerificationError):
            verifier.verify_artifact(item.artifact, bundle, policy)
            pytest.fail(f"sigstore-python's Verifier accepted a corrupted {what}")

    # Trust in the v2 log's key alone does not cover the v1 tree.
    entry = TransparencyLogEntry._from_v1_response(answer)
    with pytest.raises(VerificationError):
        entry._verify(log_keyring(dev_server.trusted_root, keep=[V2_TLOG]))


@dataclass
class V1Log:
    """A fresh Rekor v1 tree holding four hashedrekord entries and one DSSE entry by alice."""

    server: Server
    alice: CertSigner
    client: RekorClient
    keyring: RekorKeyring
    verifier: Verifier
    signed: list[Signed]
    dsse_request: EntryRequestBody
    created: list[TransparencyLogEntry]
    tree_hex: str

    @classmethod
    def filled(cls, server: Server) -> V1Log:
        ca = IssuingCA()
        alice = ca.issue("alice@example.com")
        client = RekorClient(server.url)
        signed = [Signed.by(alice, f"artifact {i}".encode()) for i in range(4)]
        created = [client.create_entry(item.v1_request()) for item in signed]
        envelope = dsse._sign(alice.private_key, statement_about(b"artifact 1"))
        dsse_request = client._build_dsse_request(envelope, alice.certificate)
        created.append(client.create_entry(dsse_request))
        return cls(
            server=server,
            alice=alice,
            client=client,
            keyring=log_keyring(server.trusted_root, keep=[V1_TLOG]),
            verifier=Verifier(trusted_root=full_trust(server, ca)),
            signed=signed,
            dsse_request=dsse_request,
            created=created,
            tree_hex=f"{int(client.log.get().tree_id):016x}",
        )

    @property
    def uuids(self) -> list[str]:
        return [
            hashlib.sha256(b"\x00" + entry._inner.canonicalized_body).hexdigest()
            for entry in self.created
        ]

    @property
    def ids(self) -> list[str]:
        return [self.tree_hex + uuid for uuid in self.uuids]

    def check(self, entry: TransparencyLogEntry, index: int) -> None:
        """``entry`` is the one logged at ``index`` and passes sigstore-python's checks."""
        original = self.created[index]._inner
        assert entry._inner.log_index == index
        assert entry._inner.canonicalized_body == original.canonicalized_body
        assert entry._inner.integrated_time == original.integrated_time
        assert_v1_entry_verifies(entry, self.keyring)
        proof = entry._inner.inclusion_proof
        mirror = TreeMirror(created._inner.canonicalized_body for created in self.created)
        assert proof.root_hash == mirror.root(proof.tree_size)
        if index < len(self.signed):
            item = self.signed[index]
            bundle = Bundle.from_parts(self.alice.certificate, item.signature, entry)
            policy = Identity(identity=self.alice.email, issuer=OIDC_ISSUER)
            self.verifier.verify_artifact(item.artifact, bundle, policy)

    def check_answer(self, answer: Json, index: int) -> None:
        """The same for a LogEntry map, whose key must be the entry's 80-hex ID."""
        entry_id, _ = only_item(answer)
        assert entry_id == self.ids[index]
        self.check(TransparencyLogEntry._from_v1_response(answer), index)


@pytest.fixture
def v1_log(dev_server: Server) -> V1Log:
    return V1Log.filled(dev_server)


def test_v1_duplicates_are_refused_with_the_location_of_the_logged_entry(v1_log: V1Log) -> None:
    http = v1_log.server.http
    for index, request in [(0, v1_log.signed[0].v1_request()), (4, v1_log.dsse_request)]:
        response = http.post(ENTRIES, json=request)
        assert response.status_code == 409, response.text
        assert response.json()["code"] == 409
        assert v1_log.ids[index] in response.json()["message"]
        assert response.headers["Location"] == f"{ENTRIES}/{v1_log.ids[index]}"
        followed = http.get(response.headers["Location"])
        assert followed.status_code == 200
        v1_log.check_answer(followed.json(), index)
    with pytest.raises(RekorClientError, match="409"):
        v1_log.client.create_entry(Signed.by(v1_log.alice, b"artifact 2").v1_request())
    assert v1_log.client.log.get().tree_size == len(v1_log.created)


def test_v1_entries_are_found_by_uuid_entry_id_and_log_index(v1_log: V1Log) -> None:
    http, client, uuids, ids = v1_log.server.http, v1_log.client, v1_log.uuids, v1_log.ids
    for index in range(len(v1_log.created)):
        v1_log.check(client.log.entries.get(uuid=uuids[index]), index)
        v1_log.check(client.log.entries.get(uuid=ids[index]), index)
        if index:  # sigstore-python's client cannot ask for log index 0
            v1_log.check(client.log.entries.get(log_index=index), index)
        v1_log.check_answer(http.get(f"{ENTRIES}/{uuids[index]}").json(), index)
        v1_log.check_answer(http.get(f"{ENTRIES}/{ids[index].upper()}").json(), index)
        v1_log.check_answer(http.get(ENTRIES, params={"logIndex": index}).json(), index)

    unknown = hashlib.sha256(b"unknown").hexdigest()
    tree_id = int(v1_log.tree_hex, 16)
    other_tree = f"{tree_id - 1 if tree_id > 1 else 2:016x}"
    for path in [
        f"{ENTRIES}/{unknown}",
        f"{ENTRIES}/{v1_log.tree_hex}{unknown}",
        f"{ENTRIES}/{other_tree}{uuids[0]}",
    ]:
        response = http.get(path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == 404
    assert http.get(ENTRIES, params={"logIndex": len(v1_log.created)}).status_code == 404
    assert http.get(f"{ENTRIES}/not-an-id").status_code == 400
    with pytest.raises(RekorClientError):
        client.log.entries.get(uuid=unknown)


def test_v1_retrieve_returns_the_logged_entries_it_names(v1_log: V1Log) -> None:
    http, client, uuids, ids = v1_log.server.http, v1_log.client, v1_log.uuids, v1_log.ids
    alice, signed = v1_log.alice, v1_log.signed

    # sigstore-python's retrieve by content (hashedrekord and DSSE).
    for index, item in enumerate(signed):
        expected = _hashedrekord_from_parts(alice.certificate, item.signature, item.hashed)
        found = client.log.entries.retrieve.post(expected)
        assert found is not None
        v1_log.check(found, index)
    dsse_expected = rekor_types.Dsse.model_validate(v1_log.dsse_request)
    found = client.log.entries.retrieve.post(dsse_expected)
    assert found is not None
    v1_log.check(found, 4)
    unlogged = Signed.by(alice, b"never logged")
    missing = _hashedrekord_from_parts(alice.certificate, unlogged.signature, unlogged.hashed)
    assert client.log.entries.retrieve.post(missing) is None

    # By UUIDs, log indexes and entries: the found ones only, in the order asked.
    unknown = hashlib.sha256(b"unknown").hexdigest()
    queries: list[tuple[Json, list[int]]] = [
        ({"entryUUIDs": [uuids[0], unknown, ids[2], v1_log.tree_hex + unknown]}, [0, 2]),
        ({"entryUUIDs": [uuids[3]]}, [3]),
        ({"logIndexes": [4, 999, 1]}, [4, 1]),
        ({"logIndexes": list(range(10))}, list(range(5))),
        ({"entries": [signed[2].v1_request(), unlogged.v1_request(), v1_log.dsse_request]}, [2, 4]),
        ({"entryUUIDs": [unknown]}, []),
    ]
    for path in (f"{ENTRIES}/retrieve", f"{ENTRIES}/retrieve/"):
        for query, indices in queries:
            response = http.post(path, json=query)
            assert response.status_code == 200, (query, response.text)
            answers = response.json()
            assert [only_item(answer)[0] for answer in answers] == [ids[i] for i in indices]
            for answer, index in zip(answers, indices, strict=True):
                v1_log.check_answer(answer, index)
    for bad in [
        {"logIndexes": list(range(11))},
        {"entryUUIDs": [uuids[0]] * 11},
        {"logIndexes": []},
        {},
    ]:
        response = http.post(f"{ENTRIES}/retrieve", json=bad)
        assert response.status_code == 400, (bad, response.text)
        assert response.json()["code"] == 400


def test_v1_public_key_is_the_trusted_roots_v1_log_key(dev_server: Server) -> None:
    http = dev_server.http
    response = http.get("/api/v1/log/publicKey")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-pem-file")
    served = serialization.load_pem_public_key(response.content).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    tlogs = json.loads(dev_server.trusted_root.read_text())["tlogs"]
    assert served == base64.b64decode(tlogs[V1_TLOG]["publicKey"]["rawBytes"])
    assert served != base64.b64decode(tlogs[V2_TLOG]["publicKey"]["rawBytes"])
    assert hashlib.sha256(served).digest() == tlog_key_id(dev_server, V1_TLOG)
    tree_id = RekorClient(dev_server.url).log.get().tree_id
    assert http.get("/api/v1/log/publicKey", params={"treeID": tree_id}).content == response.content
    assert http.get("/api/v1/log/publicKey", params={"treeID": "1"}).status_code == 404


def test_every_v1_proof_verifies_independently(dev_server: Server) -> None:
    ca = IssuingCA()
    signers = [ca.issue("alice@example.com"), ca.issue("bob@example.com")]
    client = RekorClient(dev_server.url)
    keyring = log_keyring(dev_server.trusted_root, keep=[V1_TLOG])
    http = dev_server.http
    size = 11

    created = []
    for i in range(size):
        item = Signed.by(signers[i % 2], f"artifact {i}".encode())
        created.append(client.create_entry(item.v1_request()))
    mirror = TreeMirror(entry._inner.canonicalized_body for entry in created)

    # Each create answer: a verified inclusion proof against the tree it was integrated in.
    for index, entry in enumerate(created):
        assert_v1_entry_verifies(entry, keyring)
        proof = entry._inner.inclusion_proof
        assert index < proof.tree_size <= size
        assert proof.root_hash == mirror.root(proof.tree_size)

    # LogInfo agrees with the rebuilt tree, and its signed tree head with both.
    info = http.get("/api/v1/log").json()
    assert info["treeSize"] == size
    assert info["rootHash"] == mirror.root(size).hex()
    head = SignedCheckpoint.from_text(info["signedTreeHead"])
    assert head.checkpoint.origin == f"{urlsplit(dev_server.url).hostname} - {info['treeID']}"
    assert (head.checkpoint.log_size, head.checkpoint.log_hash) == (size, info["rootHash"])
    head.signed_note.verify(keyring, KeyID(tlog_key_id(dev_server, V1_TLOG)))

    # Lookups now prove inclusion in the full tree.
    for index in range(size):
        answer = http.get(ENTRIES, params={"logIndex": index}).json()
        entry = TransparencyLogEntry._from_v1_response(answer)
        assert_v1_entry_verifies(entry, keyring)
        assert entry._inner.inclusion_proof.tree_size == size
        assert entry._inner.inclusion_proof.root_hash == mirror.root(size)

    # Consistency proofs between every pair of sizes.
    for last in range(1, size + 1):
        for first in range(1, last + 1):
            response = http.get("/api/v1/log/proof", params={"firstSize": first, "lastSize": last})
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["rootHash"] == mirror.root(last).hex()
            hashes = [bytes.fromhex(node) for node in body["hashes"]]
            first_root, last_root = mirror.root(first), mirror.root(last)
            assert consistency_holds(first, last, first_root, last_root, hashes), (first, last)
            for position in range(len(hashes)):
                bad = list(hashes)
                bad[position] = hashlib.sha256(bad[position]).digest()
                assert not consistency_holds(first, last, first_root, last_root, bad)
    default = http.get("/api/v1/log/proof", params={"lastSize": 6}).json()
    assert default == http.get("/api/v1/log/proof", params={"firstSize": 1, "lastSize": 6}).json()
    tree_id = info["treeID"]
    scoped = http.get(
        "/api/v1/log/proof", params={"firstSize": 3, "lastSize": 9, "treeID": tree_id}
    )
    assert consistency_holds(
        3, 9, mirror.root(3), mirror.root(9), [bytes.fromhex(n) for n in scoped.json()["hashes"]]
    )

    # Each create answer's checkpoint is consistent with the current tree head.
    for entry in created:
        checkpoint = checkpoint_of(entry).checkpoint
        proof = http.get(
            "/api/v1/log/proof", params={"firstSize": checkpoint.log_size, "lastSize": size}
        ).json()
        assert consistency_holds(
            checkpoint.log_size,
            size,
            bytes.fromhex(checkpoint.log_hash),
            bytes.fromhex(info["rootHash"]),
            [bytes.fromhex(node) for node in proof["hashes"]],
        )

    bad_sizes: list[dict[str, int]] = [
        {"firstSize": 1, "lastSize": size + 1},
        {"firstSize": 5, "lastSize": 4},
        {"firstSize": 0, "lastSize": 4},
    ]
    for params in bad_sizes:
        response = http.get("/api/v1/log/proof", params=params)
        assert response.status_code == 400, (params, response.text)
    wrong_tree: dict[str, str | int] = {"firstSize": 1, "lastSize": 2, "treeID": "1"}
    assert http.get("/api/v1/log/proof", params=wrong_tree).status_code == 404


# --- Rekor v2 through sigstore-python ---------------------------------------------------------


def test_v2_entries_uploaded_by_sigstore_python_verify_in_sigstore_python(
    dev_server: Server,
) -> None:
    ca = IssuingCA()
    alice = ca.issue("alice@example.com")
    client = RekorV2Client(dev_server.url)
    keyring = log_keyring(dev_server.trusted_root, keep=[V2_TLOG])
    host = urlsplit(dev_server.url).hostname

    signed = [Signed.by(alice, f"artifact {i}".encode()) for i in range(5)]
    created = []
    for item in signed:
        entry = client.create_entry(
            client._build_hashed_rekord_request(item.hashed, item.signature, alice.certificate)
        )
        created.append(entry)
        inner = entry._inner
        assert (inner.kind_version.kind, inner.kind_version.version) == ("hashedrekord", "0.0.2")
        assert inner.log_id.key_id == tlog_key_id(dev_server, V2_TLOG)
        assert not inner.integrated_time
        assert inner.inclusion_promise is None
        verify_merkle_inclusion(entry)
        verify_checkpoint(keyring, entry)
        entry._verify(keyring)
        assert_proof_matches_checkpoint(entry)
        checkpoint = checkpoint_of(entry)
        assert checkpoint.checkpoint.origin == host
        assert [s.name for s in checkpoint.signed_note.signatures] == [host]
        bundle = LogOnlyBundle.from_parts(alice.certificate, item.signature, entry)
        _validate_hashedrekord_v002_entry_body(bundle, item.hashed)
        with pytest.raises(VerificationError):
            _validate_hashedrekord_v002_entry_body(bundle, sha256_digest(b"another artifact"))

    envelope = dsse._sign(alice.private_key, statement_about(b"artifact 0"))
    dsse_entry = client.create_entry(client._build_dsse_request(envelope, alice.certificate))
    dsse_entry._verify(keyring)
    assert_proof_matches_checkpoint(dsse_entry)
    _validate_hashedrekord_v002_dsse_entry_body(
        LogOnlyBundle._from_parts(alice.certificate, envelope, dsse_entry)
    )
    created.append(dsse_entry)

    # The fresh v2 log holds these entries only: rebuild it and check every root.
    assert [entry._inner.log_index for entry in created] == list(range(len(created)))
    mirror = TreeMirror(entry._inner.canonicalized_body for entry in created)
    for entry in created:
        proof = entry._inner.inclusion_proof
        assert proof.root_hash == mirror.root(proof.tree_size)
    latest = SignedCheckpoint.from_text(dev_server.http.get("/checkpoint").text)
    latest.signed_note.verify(keyring, KeyID(tlog_key_id(dev_server, V2_TLOG)))
    assert latest.checkpoint.origin == host
    assert latest.checkpoint.log_size == len(created)
    assert latest.checkpoint.log_hash == mirror.root(len(created)).hex()

    # Only trust in the v2 log's key verifies its entries.
    with pytest.raises(VerificationError):
        created[0]._verify(log_keyring(dev_server.trusted_root, keep=[V1_TLOG]))

    # Duplicates: 409 with the existing entry's index.
    for index, request in [
        (0, signed[0].v2_request()),
        (5, client._build_dsse_request(envelope, alice.certificate)),
    ]:
        response = dev_server.http.post("/api/v2/log/entries", json=request)
        assert response.status_code == 409, response.text
        assert response.headers["x-log-index"] == str(created[index]._inner.log_index)
    with pytest.raises(RekorClientError):
        client.create_entry(signed[1].v2_request())


V2_CORRUPTIONS: dict[str, Corruption] = {
    "a hash of the inclusion proof": ("inclusionProof/hashes/0", flip_b64),
    "the proof's root hash": ("inclusionProof/rootHash", flip_b64),
    "the proof's log index": ("inclusionProof/logIndex", lambda i: str(int(i) - 1)),
    "the checkpoint signature": (
        "inclusionProof/checkpoint/envelope",
        corrupt_checkpoint_signature,
    ),
    "the checkpoint root": ("inclusionProof/checkpoint/envelope", corrupt_checkpoint_root),
    # sigstore-python takes the log ID as a hint: only its first 4 bytes, which must
    # match the checkpoint signature's key hint, are bound to anything in v2.
    "the log ID": ("logId/keyId", lambda key_id: flip_b64(key_id, at=0)),
    "the body": ("canonicalizedBody", one_more_byte),
}


def test_sigstore_python_rejects_v2_entries_altered_after_the_server_answered(
    dev_server: Server,
) -> None:
    alice = IssuingCA().issue("alice@example.com")
    keyring = log_keyring(dev_server.trusted_root)
    answers = []
    for i in range(3):
        response = dev_server.http.post(
            "/api/v2/log/entries", json=Signed.by(alice, f"artifact {i}".encode()).v2_request()
        )
        assert response.status_code == 201, response.text
        answers.append(response.json())
    answer = answers[1]
    assert answer["inclusionProof"]["hashes"]
    v2_entry(answer)._verify(keyring)
    for what, (path, change) in V2_CORRUPTIONS.items():
        with pytest.raises(VerificationError):
            v2_entry(altered(answer, path, change))._verify(keyring)
            pytest.fail(f"sigstore-python accepted an entry with a corrupted {what}")


# --- Search ---------------------------------------------------------------------------------


def bare_key_request(signer: KeySigner, artifact: bytes) -> EntryRequestBody:
    """A hashedrekord 0.0.1 ProposedEntry verified by a bare public key (PEM)."""
    return EntryRequestBody(
        {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {
                    "hash": {"algorithm": "sha256", "value": hashlib.sha256(artifact).hexdigest()}
                },
                "signature": {
                    "content": base64.b64encode(signer.sign(artifact)).decode(),
                    "publicKey": {"content": base64.b64encode(signer.public_pem).decode()},
                },
            },
        }
    )


@pytest.mark.parametrize(
    "backend", ["dev_server", "postgres_server_process"], ids=["sqlite", "postgres"]
)
def test_search_finds_exactly_the_matching_entries(
    backend: str, request: pytest.FixtureRequest
) -> None:
    server = cast(Server, request.getfixturevalue(backend))
    ca = IssuingCA()
    alice, bob, carol = (ca.issue(f"{name}@example.com") for name in ("alice", "bob", "carol"))
    dave = KeySigner.generate()
    a, b, c = b"artifact A", b"artifact B", b"artifact C"
    client = RekorClient(server.url)

    logged = {
        "alice-A": client.create_entry(Signed.by(alice, a).v1_request()),
        "alice-B": client.create_entry(Signed.by(alice, b).v1_request()),
        "bob-A": client.create_entry(Signed.by(bob, a).v1_request()),
        "carol-C": client.create_entry(Signed.by(carol, c).v1_request()),
        "dave-A": client.create_entry(bare_key_request(dave, a)),
        "dave-B": client.create_entry(bare_key_request(dave, b)),
        "alice-dsse": client.create_entry(
            client._build_dsse_request(
                dsse._sign(alice.private_key, statement_about(b"artifact D")), alice.certificate
            )
        ),
    }
    tree_hex = f"{int(client.log.get().tree_id):016x}"
    ids = {
        name: tree_hex + hashlib.sha256(b"\x00" + entry._inner.canonicalized_body).hexdigest()
        for name, entry in logged.items()
    }

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    def key(pem: bytes) -> Json:
        return {"format": "x509", "content": b64(pem)}

    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    cases: list[tuple[Json, set[str]]] = [
        ({"hash": f"sha256:{digest(a)}"}, {"alice-A", "bob-A", "dave-A"}),
        ({"hash": digest(b)}, {"alice-B", "dave-B"}),
        ({"hash": f"sha256:{digest(c)}"}, {"carol-C"}),
        ({"hash": f"sha256:{digest(b'never logged')}"}, set()),
        ({"publicKey": key(dave.public_pem)}, {"dave-A", "dave-B"}),
        ({"publicKey": key(alice.cert_pem)}, {"alice-A", "alice-B", "alice-dsse"}),
        ({"publicKey": key(bob.cert_pem)}, {"bob-A"}),
        ({"publicKey": key(KeySigner.generate().public_pem)}, set()),
        ({"email": "alice@example.com"}, {"alice-A", "alice-B", "alice-dsse"}),
        ({"email": "Carol@Example.COM"}, {"carol-C"}),
        ({"email": "nobody@example.com"}, set()),
        (
            {"email": "alice@example.com", "hash": f"sha256:{digest(a)}", "operator": "and"},
            {"alice-A"},
        ),
        (
            {"email": "alice@example.com", "hash": f"sha256:{digest(a)}", "operator": "or"},
            {"alice-A", "alice-B", "alice-dsse", "bob-A", "dave-A"},
        ),
        (
            {"email": "bob@example.com", "hash": f"sha256:{digest(c)}"},
            {"bob-A", "carol-C"},
        ),
        ({"email": "bob@example.com", "hash": digest(b), "operator": "and"}, set()),
        ({"publicKey": key(dave.public_pem), "hash": digest(b), "operator": "and"}, {"dave-B"}),
        (
            {"publicKey": key(bob.cert_pem), "email": "carol@example.com", "operator": "or"},
            {"bob-A", "carol-C"},
        ),
    ]
    for query, expected in cases:
        response = server.http.post("/api/v1/index/retrieve", json=query)
        assert response.status_code == 200, (query, response.text)
        found = response.json()
        assert len(found) == len(set(found)), (query, found)
        assert set(found) == {ids[name] for name in expected}, query

    for bad in [
        {},
        {"hash": "sha256:xyz"},
        {"operator": "and"},
        {"email": "a@b.c", "operator": "xor"},
    ]:
        response = server.http.post("/api/v1/index/retrieve", json=bad)
        assert response.status_code == 400, (bad, response.text)
