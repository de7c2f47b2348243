"""Malformed, truncated, oversized and hostile requests to every Rekor endpoint of a real server.

Each one must be refused with a 4xx (never a 5xx; validation failures are 400,
not 422) as JSON ``{code, message}`` whose message names the field or the
problem, and must write nothing: the Rekor v1 tree and the main (v2) log keep
their size and root, as ``/api/v1/log``, ``/checkpoint`` and
``/logs/rekor-v1/checkpoint`` show. One server serves the whole module; it holds
one v1 and one v2 entry, logged from the valid requests the bad ones are made from.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from lacre.apps.http import MAX_JSON_BODY
from tests.integration.servers import Server

V1_ENTRIES = "/api/v1/log/entries"
V1_RETRIEVE = "/api/v1/log/entries/retrieve"
V1_SEARCH = "/api/v1/index/retrieve"
V2_ENTRIES = "/api/v2/log/entries"
JSON_ENDPOINTS = [V1_ENTRIES, V1_RETRIEVE, V1_SEARCH, V2_ENTRIES]

KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
P384_KEY = ec.generate_private_key(ec.SECP384R1())
ED25519_KEY = ed25519.Ed25519PrivateKey.generate()
DIGEST = hashlib.sha256(b"an artifact for the bad-input tests").digest()
OTHER_DIGEST = hashlib.sha256(b"another artifact").digest()
SIGNATURE = KEY.sign(DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))
DELETE = object()
"""Marks a member to remove in :func:`changed`."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pem(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


GARBAGE_CERT = b"-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
GARBAGE_KEY_PEM = b"-----BEGIN PUBLIC KEY-----\nTm90IGEga2V5\n-----END PUBLIC KEY-----\n"
PRIVATE_KEY_PEM = KEY.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.TraditionalOpenSSL,
    serialization.NoEncryption(),
)
RANDOM_BYTES = hashlib.sha512(b"not DER").digest()

V1: dict[str, Any] = {
    "kind": "hashedrekord",
    "apiVersion": "0.0.1",
    "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": DIGEST.hex()}},
        "signature": {"content": b64(SIGNATURE), "publicKey": {"content": b64(pem(KEY))}},
    },
}
V2: dict[str, Any] = {
    "hashedRekordRequestV002": {
        "digest": b64(DIGEST),
        "signature": {
            "content": b64(SIGNATURE),
            "verifier": {
                "publicKey": {"rawBytes": b64(spki(KEY))},
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            },
        },
    }
}
V2_VERIFIER = "hashedRekordRequestV002.signature.verifier"
DSSE_V2: dict[str, Any] = {
    "dsseRequestV002": {
        "envelope": {
            "payload": b64(b"{}"),
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": b64(SIGNATURE), "keyid": ""}],
        },
        "verifiers": [V2["hashedRekordRequestV002"]["signature"]["verifier"]],
    }
}


def encode(document: object) -> bytes:
    return json.dumps(document).encode()


def changed(document: dict[str, Any], path: str, value: object) -> bytes:
    """``document`` with the member at dotted ``path`` set to ``value`` (or deleted)."""
    result = copy.deepcopy(document)
    *parents, last = path.split(".")
    node: Any = result
    for name in parents:
        node = node[int(name)] if name.isdigit() else node[name]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return encode(result)


@dataclass(frozen=True)
class Bad:
    """A request and how it must be refused."""

    method: str
    path: str
    body: bytes | None
    status: int
    says: tuple[str, ...]
    params: dict[str, str] = field(default_factory=dict)


def post(path: str, body: bytes, status: int, *says: str) -> Bad:
    return Bad("POST", path, body, status, says)


def get(path: str, status: int, *says: str, **params: str) -> Bad:
    return Bad("GET", path, None, status, says, params)


def cases(table: dict[str, Bad]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("bad", list(table.values()), ids=list(table))


# --- Bodies every JSON endpoint must refuse the same way --------------------------------

_NOT_AN_OBJECT = "expected a JSON object"

GENERIC: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "not-json": (b"this is not JSON", ("not valid JSON", "Expecting value")),
    "empty": (b"", ("not valid JSON",)),
    "truncated": (encode(V1)[:40], ("not valid JSON",)),
    "unterminated-string": (b'{"kind": "hashedre', ("not valid JSON", "Unterminated string")),
    "trailing-garbage": (encode(V1) + b"}", ("not valid JSON", "Extra data")),
    "array": (b"[]", (_NOT_AN_OBJECT, "found array")),
    "string": (b'"hashedrekord"', (_NOT_AN_OBJECT, "found string")),
    "number": (b"42", (_NOT_AN_OBJECT, "found number")),
    "null": (b"null", (_NOT_AN_OBJECT, "found null")),
    "boolean": (b"true", (_NOT_AN_OBJECT, "found boolean")),
    "deep-arrays": (b"[" * 100_000 + b"]" * 100_000, ("not valid JSON", "nested too deeply")),
    "deep-objects": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, ("nested too deeply",)),
    "deep-unterminated": (b"[" * 100_000, ("nested too deeply",)),
    "nan": (b"NaN", ("not valid JSON", "NaN is not a JSON number")),
    "nested-nan": (b'{"kind": NaN}', ("NaN is not a JSON number",)),
    "infinity": (b'{"spec": {"x": [Infinity]}}', ("Infinity is not a JSON number",)),
    "minus-infinity": (b"[-Infinity]", ("-Infinity is not a JSON number",)),
    "huge-integer": (b"1" + b"0" * 5000, ("not valid JSON", "too many digits", "at most 4300")),
    "huge-nested-integer": (b'{"logIndexes": [1' + b"0" * 5000 + b"]}", ("too many digits",)),
    "huge-exponent": (b"1e999999", (_NOT_AN_OBJECT, "found number")),
    "non-utf8": (b'{"kind": "\xff\xfe\xfd"}', ("not valid JSON", "utf-8")),
    "latin1": ('{"email": "café"}'.encode("latin-1"), ("not valid JSON", "utf-8")),
    "nul-bytes": (b"\x00" * 64, ("not valid JSON",)),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A development server holding one v1 and one v2 entry (the valid V1 and V2)."""
    running = Server(tmp_path_factory.mktemp("bad-input") / "data", "--dev")
    try:
        for path, document in ((V1_ENTRIES, V1), (V2_ENTRIES, V2)):
            response = running.http.post(path, json=document)
            assert response.status_code == 201, response.text
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def logged(server: Server) -> dict[str, str]:
    """The UUID and entry ID of the v1 entry, and the log's tree ID."""
    response = server.http.post(V1_RETRIEVE, json={"logIndexes": [0]})
    assert response.status_code == 200, response.text
    [entry_id] = response.json()[0]
    return {"entry_id": entry_id, "uuid": entry_id[16:], "tree_id": entry_id[:16]}


def _note_body(note: bytes) -> bytes:
    return note.split(b"\n\n", 1)[0]


def log_state(server: Server) -> tuple[object, ...]:
    """What a write would change: the v1 tree head and both logs' checkpoint bodies."""
    info = server.http.get("/api/v1/log").json()
    main = server.http.get("/checkpoint")
    v1 = server.http.get("/logs/rekor-v1/checkpoint")
    assert main.status_code == v1.status_code == 200
    return info["treeSize"], info["rootHash"], _note_body(main.content), _note_body(v1.content)


def send(server: Server, bad: Bad) -> httpx.Response:
    return server.http.request(
        bad.method,
        bad.path,
        content=bad.body,
        params=bad.params,
        headers={"Content-Type": "application/json"} if bad.body is not None else None,
    )


def assert_refused(response: httpx.Response, status: int, says: tuple[str, ...]) -> None:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"code", "message"}, body
    assert body["code"] == status
    message = body["message"]
    assert isinstance(message, str) and 0 < len(message) <= 1000, message
    for part in says:
        assert part in message, f"{part!r} not in {message!r}"


def check(server: Server, bad: Bad) -> None:
    before = log_state(server)
    assert before[0] == 1
    assert_refused(send(server, bad), bad.status, bad.says)
    assert log_state(server) == before


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
@pytest.mark.parametrize("name", list(GENERIC))
def test_malformed_bodies_are_refused(server: Server, endpoint: str, name: str) -> None:
    body, says = GENERIC[name]
    check(server, post(endpoint, body, 400, *says))


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_bodies_are_refused_unread(server: Server, endpoint: str, chunked: bool) -> None:
    piece = b" " * (1024 * 1024)
    pieces = [b'{"kind": "'] + [piece] * 4 + [b'"}']
    assert sum(map(len, pieces)) > MAX_JSON_BODY
    before = log_state(server)
    content: bytes | Iterator[bytes] = iter(pieces) if chunked else b"".join(pieces)
    response = server.http.post(endpoint, content=content)
    assert ("content-length" in response.request.headers) is not chunked
    assert_refused(response, 413, ("too large", f"at most {MAX_JSON_BODY} bytes"))
    assert log_state(server) == before


@pytest.mark.parametrize("endpoint", JSON_ENDPOINTS)
def test_a_body_of_exactly_the_limit_is_read(server: Server, endpoint: str) -> None:
    body = b'"' + b"x" * (MAX_JSON_BODY - 2) + b'"'
    assert len(body) == MAX_JSON_BODY
    check(server, post(endpoint, body, 400, _NOT_AN_OBJECT, "found string"))


# --- POST /api/v1/log/entries -----------------------------------------------------------

_SIG = "spec.signature.content"
_KEY = "spec.signature.publicKey.content"
_HASH = "spec.data.hash"
_ENVELOPE = {"payload": b64(b"{}"), "payloadType": "text", "signatures": [{"sig": b64(SIGNATURE)}]}
_DSSE_V1 = {
    "kind": "dsse",
    "apiVersion": "0.0.1",
    "spec": {"proposedContent": {"envelope": json.dumps(_ENVELOPE), "verifiers": [b64(pem(KEY))]}},
}


def _v1(path: str, value: object, *says: str) -> Bad:
    return post(V1_ENTRIES, changed(V1, path, value), 400, *says)


V1_CASES = {
    "unknown-kind": _v1("kind", "rekord", "kind: unsupported entry kind 'rekord'", "hashedrekord"),
    "kind-not-string": _v1("kind", 5, "kind: expected a string, found number"),
    "kind-lone-surrogate": _v1("kind", "\ud800", "kind: not valid Unicode text"),
    "kind-too-long": _v1("kind", "k" * 5000, "kind: too long", "found 5000"),
    "unknown-api-version": _v1("apiVersion", "0.0.2", "apiVersion", "expected 0.0.1"),
    "missing-kind": _v1("kind", DELETE, "kind: required field is missing"),
    "missing-api-version": _v1("apiVersion", DELETE, "apiVersion: required field is missing"),
    "missing-spec": _v1("spec", DELETE, "spec: required field is missing"),
    "null-spec": _v1("spec", None, "spec: required field is missing"),
    "spec-array": _v1("spec", [], "spec: expected a JSON object, found array"),
    "missing-data": _v1("spec.data", DELETE, "spec.data: required field is missing"),
    "missing-digest": _v1(f"{_HASH}.value", DELETE, f"{_HASH}.value: required field is missing"),
    "digest-number": _v1(f"{_HASH}.value", 5, f"{_HASH}.value: expected a string, found number"),
    "digest-wrong-length": _v1(
        f"{_HASH}.value", "ab" * 20, f"{_HASH}.value: expected 64 lowercase hex", "found 40"
    ),
    "digest-not-hex": _v1(f"{_HASH}.value", "zz" * 32, f"{_HASH}.value: expected 64", "'zzzz"),
    "md5": _v1(f"{_HASH}.algorithm", "md5", f"{_HASH}.algorithm: unsupported hash algorithm"),
    "sha384-with-p256": _v1(
        f"{_HASH}.algorithm", "sha384", f"{_HASH}.value: expected 96 lowercase hex digits"
    ),
    "signature-not-base64": _v1(_SIG, "not base64!", f"{_SIG}: expected standard base64"),
    "signature-empty": _v1(_SIG, "", f"{_SIG}: expected non-empty base64"),
    "signature-object": _v1(_SIG, {}, f"{_SIG}: expected a string, found object"),
    "signature-does-not-verify": _v1(
        _SIG, b64(KEY.sign(OTHER_DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))), _SIG, "verif"
    ),
    "signature-garbage": _v1(_SIG, b64(RANDOM_BYTES), _SIG),
    "real-but-wrong-key": _v1(_KEY, b64(pem(OTHER_KEY)), _SIG, "verif"),
    "p384-key-signs-sha384": _v1(
        _KEY, b64(pem(P384_KEY)), f"{_HASH}.algorithm", "signs sha384 digests"
    ),
    "ed25519-key": _v1(_KEY, b64(pem(ED25519_KEY)), "a PKIX_ED25519_PH key signs sha512 digests"),
    "key-missing": _v1(_KEY, DELETE, f"{_KEY}: required field is missing"),
    "key-not-base64": _v1(_KEY, "%%%", f"{_KEY}: expected standard base64"),
    "garbage-certificate": _v1(_KEY, b64(GARBAGE_CERT), _KEY, "certificate"),
    "garbage-pem-key": _v1(_KEY, b64(GARBAGE_KEY_PEM), _KEY),
    "garbage-der": _v1(_KEY, b64(RANDOM_BYTES), _KEY, "found neither"),
    "private-key": _v1(_KEY, b64(PRIVATE_KEY_PEM), _KEY, "unsupported PEM block type"),
    "dsse-envelope-not-json": post(
        V1_ENTRIES,
        changed(_DSSE_V1, "spec.proposedContent.envelope", "not json"),
        400,
        "spec.proposedContent.envelope: not valid JSON",
    ),
    "dsse-envelope-deep": post(
        V1_ENTRIES,
        changed(_DSSE_V1, "spec.proposedContent.envelope", "[" * 100_000),
        400,
        "spec.proposedContent.envelope: not valid JSON",
    ),
    "dsse-no-verifiers": post(
        V1_ENTRIES,
        changed(_DSSE_V1, "spec.proposedContent.verifiers", []),
        400,
        "spec.proposedContent.verifiers: expected 1 to 10 elements, found 0",
    ),
    "dsse-signature-does-not-verify": post(
        V1_ENTRIES,
        encode(_DSSE_V1),
        400,
        "signatures[0].sig: the signature verifies with none of the 1 verifier(s)",
    ),
    "intoto-no-content": post(
        V1_ENTRIES,
        encode({"kind": "intoto", "apiVersion": "0.0.2", "spec": {}}),
        400,
        "spec.content: required field is missing",
    ),
    "duplicate": post(V1_ENTRIES, encode(V1), 409, "already exists", "UUID"),
}


@cases(V1_CASES)
def test_v1_create_refuses_bad_entries(server: Server, bad: Bad) -> None:
    check(server, bad)


# --- POST /api/v2/log/entries -----------------------------------------------------------

_DIGEST2 = "hashedRekordRequestV002.digest"
_SIG2 = "hashedRekordRequestV002.signature.content"
_DETAILS = f"{V2_VERIFIER}.keyDetails"
_RAW = f"{V2_VERIFIER}.publicKey.rawBytes"


def _v2(path: str, value: object, *says: str) -> Bad:
    return post(V2_ENTRIES, changed(V2, path, value), 400, *says)


_BOTH = {**V2, **DSSE_V2}
_ALIASED = {**V2, "hashed_rekord_request_v002": V2["hashedRekordRequestV002"]}

V2_CASES = {
    "neither": post(V2_ENTRIES, b"{}", 400, "exactly one of", "found neither"),
    "only-unknown-fields": post(V2_ENTRIES, b'{"rekord": {}}', 400, "found neither"),
    "both": post(
        V2_ENTRIES, encode(_BOTH), 400, "found hashedRekordRequestV002 and dsseRequestV002"
    ),
    "twice-by-alias": post(V2_ENTRIES, encode(_ALIASED), 400, "given twice"),
    "request-is-string": _v2(
        "hashedRekordRequestV002", "x", "hashedRekordRequestV002: expected a JSON object"
    ),
    "missing-digest": _v2(_DIGEST2, DELETE, f"{_DIGEST2}: required field is missing"),
    "digest-not-base64": _v2(_DIGEST2, "!!!!", _DIGEST2, "base64"),
    "digest-too-short": _v2(
        _DIGEST2, b64(DIGEST[:20]), f"{_DIGEST2}: expected 32 bytes for SHA2_256", "found 20"
    ),
    "digest-too-long": _v2(_DIGEST2, b64(DIGEST * 2), f"{_DIGEST2}: expected 32 bytes", "64"),
    "signature-does-not-verify": _v2(
        _SIG2, b64(KEY.sign(OTHER_DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))), _SIG2
    ),
    "signature-not-base64": _v2(_SIG2, "%%%", _SIG2, "base64"),
    "real-but-wrong-key": _v2(_RAW, b64(spki(OTHER_KEY)), _SIG2),
    "garbage-key": _v2(_RAW, b64(RANDOM_BYTES), _RAW),
    "garbage-certificate": _v2(
        V2_VERIFIER,
        {
            "x509Certificate": {"rawBytes": b64(RANDOM_BYTES)},
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
        },
        f"{V2_VERIFIER}.x509Certificate.rawBytes: not a DER X.509 certificate",
    ),
    "key-and-certificate": _v2(
        f"{V2_VERIFIER}.x509Certificate",
        {"rawBytes": b64(RANDOM_BYTES)},
        f"{V2_VERIFIER}: expected one of x509Certificate or publicKey, found both",
    ),
    "no-key-no-certificate": _v2(
        f"{V2_VERIFIER}.publicKey",
        DELETE,
        f"{V2_VERIFIER}: expected one of x509Certificate or publicKey, found neither",
    ),
    "unknown-key-details": _v2(_DETAILS, "PKIX_FOO", _DETAILS, "unsupported PublicKeyDetails"),
    "pure-ed25519-details": _v2(_DETAILS, "PKIX_ED25519", _DETAILS, "is not allowed"),
    "p384-details-for-p256-key": _v2(
        _DETAILS, "PKIX_ECDSA_P384_SHA_384", _DETAILS, "does not match the key"
    ),
    "rsa-pss-details": _v2(_DETAILS, "PKIX_RSA_PSS_2048_SHA256", _DETAILS, "is not allowed"),
    "key-details-number": _v2(_DETAILS, 99, _DETAILS, "unsupported PublicKeyDetails number 99"),
    "key-details-huge-number": _v2(_DETAILS, 10**30, _DETAILS, "unsupported PublicKeyDetails"),
    "key-details-boolean": _v2(_DETAILS, True, _DETAILS, "expected a string, found boolean"),
    "key-details-missing": _v2(_DETAILS, DELETE, f"{_DETAILS}: required field is missing"),
    "dsse-no-signatures": post(
        V2_ENTRIES,
        changed(DSSE_V2, "dsseRequestV002.envelope.signatures", []),
        400,
        "dsseRequestV002.envelope.signatures: expected 1 to 10 elements, found 0",
    ),
    "dsse-eleven-verifiers": post(
        V2_ENTRIES,
        changed(DSSE_V2, "dsseRequestV002.verifiers", DSSE_V2["dsseRequestV002"]["verifiers"] * 11),
        400,
        "dsseRequestV002.verifiers: expected 1 to 10 elements, found 11",
    ),
    "dsse-signature-does-not-verify": post(
        V2_ENTRIES, encode(DSSE_V2), 400, "dsseRequestV002.envelope.signatures[0].sig"
    ),
    "duplicate": post(V2_ENTRIES, encode(V2), 409, "already exists", "log index 0"),
}


@cases(V2_CASES)
def test_v2_create_refuses_bad_requests(server: Server, bad: Bad) -> None:
    check(server, bad)


# --- POST /api/v1/log/entries/retrieve ---------------------------------------------------

_UUID = "ab" * 32
_NO_ENTRY = "retrieve request names no entry: give entryUUIDs, logIndexes or entries"


def _retrieve(body: object, *says: str) -> Bad:
    return post(V1_RETRIEVE, encode(body), 400, *says)


RETRIEVE_CASES = {
    "no-criterion": _retrieve({}, _NO_ENTRY),
    "zero-log-indexes": _retrieve({"logIndexes": []}, _NO_ENTRY),
    "zero-items": _retrieve({"entryUUIDs": [], "logIndexes": [], "entries": []}, _NO_ENTRY),
    "null-entries": _retrieve({"entries": None}, _NO_ENTRY),
    "eleven-log-indexes": _retrieve(
        {"logIndexes": list(range(11))}, "logIndexes: too many items", "at most 10, found 11"
    ),
    "eleven-uuids": _retrieve({"entryUUIDs": [_UUID] * 11}, "entryUUIDs: too many items"),
    "eleven-entries": _retrieve({"entries": [V1] * 11}, "entries: too many items"),
    "mixed-with-a-bad-item": _retrieve(
        {"logIndexes": [0], "entryUUIDs": [_UUID, "zz"]}, "entryUUIDs[1]: malformed entry UUID"
    ),
    "unknown-field": _retrieve({"logIndexes": [0], "limit": 5}, "unknown retrieve fields", "limit"),
    "indexes-not-array": _retrieve({"logIndexes": 0}, "logIndexes: expected an array, found num"),
    "uuids-string": _retrieve({"entryUUIDs": _UUID}, "entryUUIDs: expected an array, found str"),
    "negative-index": _retrieve(
        {"logIndexes": [0, -1]}, "logIndexes[1]: expected a non-negative integer, found -1"
    ),
    "string-index": _retrieve({"logIndexes": ["0"]}, "logIndexes[0]", "found string"),
    "boolean-index": _retrieve({"logIndexes": [True]}, "logIndexes[0]", "found boolean"),
    "fractional-index": _retrieve({"logIndexes": [1.5]}, "logIndexes[0]", "found 1.5"),
    "infinite-index": post(
        V1_RETRIEVE, b'{"logIndexes": [1e999]}', 400, "logIndexes[0]", "found inf"
    ),
    "uuid-63-hex": _retrieve({"entryUUIDs": ["a" * 63]}, "entryUUIDs[0]: malformed entry UUID"),
    "uuid-65-hex": _retrieve({"entryUUIDs": ["a" * 65]}, "entryUUIDs[0]: malformed entry UUID"),
    "uuid-79-hex": _retrieve({"entryUUIDs": ["a" * 79]}, "malformed entry UUID", "80 hex"),
    "uuid-not-hex": _retrieve({"entryUUIDs": ["g" * 64]}, "malformed entry UUID", "'gggg"),
    "uuid-number": _retrieve({"entryUUIDs": [5]}, "entryUUIDs[0]: expected a string, found num"),
    "uuid-huge": _retrieve({"entryUUIDs": ["a" * 100_000]}, "found 100000 characters"),
    "entry-unknown-kind": _retrieve(
        {"entries": [{**V1, "kind": "rpm"}]}, "entries[0]: kind: unsupported entry kind 'rpm'"
    ),
    "entry-not-object": _retrieve({"entries": [[]]}, "entries[0]", "found array"),
    "entry-bad-signature": _retrieve(
        {"entries": [json.loads(V1_CASES["real-but-wrong-key"].body or b"")]},
        f"entries[0]: {_SIG}",
    ),
}


@cases(RETRIEVE_CASES)
def test_retrieve_refuses_bad_queries(server: Server, bad: Bad) -> None:
    check(server, bad)


# --- POST /api/v1/index/retrieve ---------------------------------------------------------

_CRITERION = "search query names no criterion"


def _search(body: object, *says: str) -> Bad:
    return post(V1_SEARCH, encode(body), 400, *says)


def _key(content: str, format_: object = "x509") -> dict[str, object]:
    return {"publicKey": {"format": format_, "content": content}}


SEARCH_CASES = {
    "no-criterion": _search({}, _CRITERION),
    "only-operator": _search({"operator": "and"}, _CRITERION),
    "null-criteria": _search({"hash": None, "email": None}, _CRITERION),
    "unknown-field": _search({"email": "a@example.com", "sha": 1}, "unknown search fields", "sha"),
    "unknown-field-huge": _search({"x" * 100_000: 1}, "unknown search fields"),
    "hash-short": _search({"hash": "sha256:abc"}, "hash is not a digest", "'sha256:abc'"),
    "hash-md5": _search({"hash": "md5:" + "a" * 32}, "hash is not a digest", "sha256"),
    "hash-wrong-length": _search({"hash": "sha256:" + "a" * 40}, "hash is not a digest"),
    "hash-not-hex": _search({"hash": "z" * 64}, "hash is not a digest"),
    "hash-number": _search({"hash": 5}, "hash must be a string", "found 5"),
    "hash-huge": _search({"hash": "a" * 100_000}, "hash must be a string"),
    "key-format-pgp": _search(
        _key(b64(pem(KEY)), "pgp"), "unsupported publicKey format", "expected x509", "'pgp'"
    ),
    "key-format-missing": _search(
        {"publicKey": {"content": b64(pem(KEY))}}, "publicKey format", "found nothing"
    ),
    "key-not-object": _search({"publicKey": "x509"}, "publicKey must be an object"),
    "key-content-missing": _search(
        {"publicKey": {"format": "x509"}}, "publicKey.content must be a string"
    ),
    "key-not-base64": _search(_key("%%%"), "publicKey.content is not valid base64"),
    "key-garbage": _search(_key(b64(RANDOM_BYTES)), "publicKey.content", "found neither"),
    "key-garbage-certificate": _search(_key(b64(GARBAGE_CERT)), "publicKey.content", "certif"),
    "key-private": _search(_key(b64(PRIVATE_KEY_PEM)), "unsupported PEM block type"),
    "email-empty": _search({"email": ""}, "email must be a non-empty string"),
    "email-number": _search({"email": 5}, "email must be a non-empty string", "found 5"),
    "email-lone-surrogate": _search({"email": "\udc00@example.com"}, "email is not valid Unicode"),
    "subject-lone-surrogate": _search({"subject": "\ud800"}, "subject is not valid Unicode"),
    "subject-too-long": _search({"subject": "s" * 1025}, "subject must be", "1 to 1024"),
    "operator-xor": _search(
        {"email": "a@example.com", "operator": "xor"}, "unsupported operator", "'xor'"
    ),
}


@cases(SEARCH_CASES)
def test_search_refuses_bad_queries(server: Server, bad: Bad) -> None:
    check(server, bad)


# --- GET endpoints ----------------------------------------------------------------------


def _entry(uuid: str, status: int, *says: str) -> Bad:
    return get(f"{V1_ENTRIES}/{uuid}", status, *says)


_MALFORMED_UUID = "malformed entry UUID"

READ_CASES = {
    "log-index-negative": get(
        V1_ENTRIES, 400, "logIndex", "greater than or equal to 0", logIndex="-1"
    ),
    "log-index-not-number": get(V1_ENTRIES, 400, "logIndex", "valid integer", logIndex="abc"),
    "log-index-float": get(V1_ENTRIES, 400, "logIndex", "valid integer", logIndex="1e3"),
    "log-index-empty": get(V1_ENTRIES, 400, "logIndex", logIndex=""),
    "log-index-missing": get(V1_ENTRIES, 400, "query.logIndex: Field required"),
    "log-index-beyond": get(V1_ENTRIES, 404, "no entry at index 1", logIndex="1"),
    "log-index-int64-max": get(V1_ENTRIES, 404, "no entry at index", logIndex=str(2**63 - 1)),
    "log-index-huge": get(V1_ENTRIES, 404, "no entry at index", logIndex=str(10**40)),
    "uuid-63-hex": _entry("a" * 63, 400, _MALFORMED_UUID, "64 hex digits"),
    "uuid-65-hex": _entry("a" * 65, 400, _MALFORMED_UUID),
    "uuid-79-hex": _entry("a" * 79, 400, _MALFORMED_UUID),
    "uuid-81-hex": _entry("a" * 81, 400, _MALFORMED_UUID),
    "uuid-not-hex": _entry("x" * 64, 400, _MALFORMED_UUID, "'xxxx"),
    "uuid-nul": _entry("%00", 400, _MALFORMED_UUID),
    "uuid-huge": _entry("a" * 5000, 400, _MALFORMED_UUID, "5000 characters"),
    "uuid-unknown": _entry("0" * 64, 404, "no entry with leaf hash"),
    "entry-id-other-tree": _entry("f" * 80, 404, "no tree"),
    "proof-last-size-zero": get(
        "/api/v1/log/proof", 400, "lastSize", "greater than or equal to 1", lastSize="0"
    ),
    "proof-last-size-missing": get("/api/v1/log/proof", 400, "lastSize", "Field required"),
    "proof-last-size-text": get("/api/v1/log/proof", 400, "lastSize", lastSize="one"),
    "proof-first-size-zero": get(
        "/api/v1/log/proof", 400, "firstSize", firstSize="0", lastSize="1"
    ),
    "proof-first-after-last": get(
        "/api/v1/log/proof",
        400,
        "firstSize must not exceed lastSize",
        firstSize="2",
        lastSize="1",
    ),
    "proof-beyond-the-tree": get(
        "/api/v1/log/proof", 400, "lastSize: tree size out of range", lastSize="2"
    ),
    "proof-huge": get("/api/v1/log/proof", 400, "lastSize", lastSize=str(10**40)),
    "proof-other-tree": get("/api/v1/log/proof", 404, "no tree", lastSize="1", treeID="1"),
    "public-key-other-tree": get("/api/v1/log/publicKey", 404, "no tree 'x'", treeID="x"),
    "unknown-path": get("/api/v1/log/nothing/here", 404, "Not Found", "/api/v1/log/nothing"),
}


@cases(READ_CASES)
def test_reads_refuse_bad_parameters(server: Server, bad: Bad) -> None:
    check(server, bad)


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", V1_ENTRIES), ("DELETE", f"{V1_ENTRIES}/{_UUID}"), ("GET", V2_ENTRIES)],
)
def test_wrong_methods_are_refused_as_json(server: Server, method: str, path: str) -> None:
    before = log_state(server)
    response = server.http.request(method, path, content=encode(V1))
    assert_refused(response, 405, ("Method Not Allowed", method, "allowed"))
    assert "allow" in response.headers
    assert log_state(server) == before


def test_the_valid_entries_are_there(server: Server, logged: dict[str, str]) -> None:
    """The bad requests above are refused for their flaw: the requests they alter are valid."""
    for name in ("uuid", "entry_id"):
        response = server.http.get(f"{V1_ENTRIES}/{logged[name]}")
        assert response.status_code == 200, response.text
    found = server.http.post(V1_RETRIEVE, json={"entries": [V1]})
    assert found.status_code == 200 and list(found.json()[0]) == [logged["entry_id"]]
    mixed = server.http.post(
        V1_RETRIEVE, json={"logIndexes": [0, 1], "entryUUIDs": [_UUID], "entries": None}
    )
    assert mixed.status_code == 200 and [list(e) for e in mixed.json()] == [[logged["entry_id"]]]
    search = server.http.post(V1_SEARCH, json={"hash": f"sha256:{DIGEST.hex()}"})
    assert search.json() == [logged["entry_id"]]
    assert log_state(server)[0] == 1
    assert server.http.get("/checkpoint").content.split(b"\n")[1] == b"1"  # the v2 entry
