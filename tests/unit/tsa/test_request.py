"""Parsing timestamp requests: DER TimeStampReq and the JSON form, good and hostile."""

from __future__ import annotations

import base64
import hashlib

import pytest
from asn1crypto import core

from lacre.tsa import (
    MAX_REQUEST_BYTES,
    FailureInfo,
    RequestRejected,
    TimestampRequest,
    parse_request,
    request_from_json,
)
from tests.unit.tsa.support import DIGEST, make_request

SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}


@pytest.mark.parametrize("name", sorted(SIZES))
def test_parses_each_accepted_hash(name: str) -> None:
    digest = hashlib.new(name, b"x").digest()
    request = parse_request(make_request(digest, hash_algorithm=name))
    assert request.hash_name == name
    assert request.hashed_message == digest
    assert request.nonce == 1234567890
    assert request.cert_req is True
    assert request.policy is None
    assert request.extensions == ()


def test_parses_optional_fields() -> None:
    der = make_request(nonce=None, cert_req=False, policy="1.2.3.4")
    request = parse_request(der)
    assert (request.nonce, request.cert_req, request.policy) == (None, False, "1.2.3.4")


def test_accepts_null_hash_parameters_as_openssl_sends_them() -> None:
    request = parse_request(make_request(parameters=core.Null()))
    assert request.hash_name == "sha256"


def test_reports_extension_oids() -> None:
    extension = {"extn_id": "1.2.3.99", "critical": False, "extn_value": b"\x05\x00"}
    request = parse_request(make_request(extensions=[extension]))
    assert request.extensions == ("1.2.3.99",)


def reject(der: bytes) -> RequestRejected:
    with pytest.raises(RequestRejected) as caught:
        parse_request(der)
    return caught.value


@pytest.mark.parametrize("algorithm", ["sha1", "md5", "sha224", "1.2.3.4.5"])
def test_refuses_other_hash_algorithms(algorithm: str) -> None:
    error = reject(make_request(b"\x00" * 20, hash_algorithm=algorithm))
    assert error.failure is FailureInfo.BAD_ALG
    assert "SHA-256, SHA-384 or SHA-512" in str(error)
    assert algorithm in str(error)


@pytest.mark.parametrize(
    ("name", "length"),
    [("sha256", 31), ("sha256", 48), ("sha384", 32), ("sha512", 0), ("sha512", 65)],
)
def test_refuses_imprint_of_wrong_length(name: str, length: int) -> None:
    error = reject(make_request(b"\x01" * length, hash_algorithm=name))
    assert error.failure is FailureInfo.BAD_DATA_FORMAT
    assert f"{SIZES[name]} bytes" in str(error) and f"found {length} bytes" in str(error)


@pytest.mark.parametrize("version", [0, 2, 3])
def test_refuses_other_versions(version: int) -> None:
    error = reject(make_request(version=version))
    assert error.failure is FailureInfo.BAD_REQUEST
    assert "expected 1" in str(error)


class LooseAlgorithm(core.Sequence):  # type: ignore[misc]
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]  # noqa: RUF012


class LooseImprint(core.Sequence):  # type: ignore[misc]
    _fields = [("hash_algorithm", LooseAlgorithm), ("hashed_message", core.OctetString)]  # noqa: RUF012


class LooseRequest(core.Sequence):  # type: ignore[misc]
    _fields = [("version", core.Integer), ("message_imprint", LooseImprint)]  # noqa: RUF012


@pytest.mark.parametrize("parameters", [core.Integer(7), core.OctetString(b"")])
def test_refuses_hash_parameters_other_than_null(parameters: core.Asn1Value) -> None:
    imprint = {
        "hash_algorithm": {"algorithm": "2.16.840.1.101.3.4.2.1", "parameters": parameters},
        "hashed_message": DIGEST,
    }
    der = LooseRequest({"version": 1, "message_imprint": imprint}).dump()
    error = reject(der)
    assert error.failure is FailureInfo.BAD_DATA_FORMAT


@pytest.mark.parametrize(
    "der",
    [
        b"",
        b"garbage",
        b"\x30",
        b"\x30\x80\x00\x00",  # indefinite length, empty
        b"\x30\x03\x02\x01\x01",  # version only
        b"\x31\x00",  # a SET, not a SEQUENCE
        b"\x30\x84\xff\xff\xff\xff",  # announces 4 GiB
    ],
)
def test_refuses_garbage(der: bytes) -> None:
    error = reject(der)
    assert error.failure is FailureInfo.BAD_DATA_FORMAT
    assert "expected an RFC 3161 TimeStampReq" in str(error)


def test_refuses_trailing_bytes() -> None:
    assert reject(make_request() + b"\x00").failure is FailureInfo.BAD_DATA_FORMAT


@pytest.mark.parametrize("cut", [1, 5, 20, -1])
def test_refuses_truncated_requests(cut: int) -> None:
    assert reject(make_request()[:cut]).failure is FailureInfo.BAD_DATA_FORMAT


def test_refuses_oversized_requests_before_parsing() -> None:
    error = reject(b"\x30" + b"\x00" * MAX_REQUEST_BYTES)
    assert error.failure is FailureInfo.BAD_DATA_FORMAT
    assert f"at most {MAX_REQUEST_BYTES} bytes" in str(error)


@pytest.mark.parametrize("nonce", [-1, 2**256])
def test_refuses_nonces_out_of_range(nonce: int) -> None:
    error = reject(make_request(nonce=nonce))
    assert error.failure is FailureInfo.BAD_DATA_FORMAT
    assert "nonce" in str(error)


def test_accepts_the_largest_nonce() -> None:
    assert parse_request(make_request(nonce=2**256 - 1)).nonce == 2**256 - 1


def test_request_object_checks_its_own_fields() -> None:
    with pytest.raises(RequestRejected):
        TimestampRequest(hash_name="sha256", hashed_message=b"short")
    with pytest.raises(RequestRejected):
        TimestampRequest(hash_name="sha256", hashed_message=DIGEST, policy="not an oid")


# --- JSON -----------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_json_minimal_form_of_sigstore_js() -> None:
    request = request_from_json({"artifactHash": b64(DIGEST), "hashAlgorithm": "sha256"})
    assert request == TimestampRequest(hash_name="sha256", hashed_message=DIGEST)


def test_json_full_form() -> None:
    digest = hashlib.sha384(b"x").digest()
    request = request_from_json(
        {
            "artifactHash": b64(digest),
            "hashAlgorithm": "SHA384",
            "certificates": True,
            "nonce": 2**70,
            "tsaPolicyOID": "1.3.6.1.4.1.57264.2",
            "unknownField": [1, 2],
        }
    )
    assert request.hash_name == "sha384"
    assert (request.cert_req, request.nonce, request.policy) == (True, 2**70, "1.3.6.1.4.1.57264.2")


@pytest.mark.parametrize(
    ("body", "failure", "words"),
    [
        ([], FailureInfo.BAD_DATA_FORMAT, "JSON object"),
        ({"hashAlgorithm": "sha256"}, FailureInfo.BAD_DATA_FORMAT, "artifactHash"),
        ({"artifactHash": b64(DIGEST)}, FailureInfo.BAD_DATA_FORMAT, "hashAlgorithm"),
        ({"artifactHash": b64(DIGEST), "hashAlgorithm": "sha1"}, FailureInfo.BAD_ALG, "sha1"),
        ({"artifactHash": b64(DIGEST), "hashAlgorithm": 256}, FailureInfo.BAD_DATA_FORMAT, "int"),
        (
            {"artifactHash": "not base64!", "hashAlgorithm": "sha256"},
            FailureInfo.BAD_DATA_FORMAT,
            "base64",
        ),
        (
            {"artifactHash": b64(DIGEST[:-1]), "hashAlgorithm": "sha256"},
            FailureInfo.BAD_DATA_FORMAT,
            "found 31 bytes",
        ),
        (
            {"artifactHash": b64(DIGEST), "hashAlgorithm": "sha512"},
            FailureInfo.BAD_DATA_FORMAT,
            "expected 64 bytes",
        ),
        (
            {"artifactHash": b64(DIGEST), "hashAlgorithm": "sha256", "nonce": "12"},
            FailureInfo.BAD_DATA_FORMAT,
            "nonce",
        ),
        (
            {"artifactHash": b64(DIGEST), "hashAlgorithm": "sha256", "nonce": True},
            FailureInfo.BAD_DATA_FORMAT,
            "nonce",
        ),
        (
            {"artifactHash": b64(DIGEST), "hashAlgorithm": "sha256", "nonce": 1.5},
            FailureInfo.BAD_DATA_FORMAT,
            "nonce",
        ),
        (
            {"artifactHash": b64(DIGEST), "hashAlgorithm": "sha256", "nonce": -3},
            FailureInfo.BAD_DATA_FORMAT,
            "negative",
        ),
        (
            {"artifactHash": b64(DIGEST), "hashAlgorithm": "sha256", "certificates": "yes"},
            FailureInfo.BAD_DATA_FORMAT,
            "certificates",
        ),
        (
            {"artifactHash": b64(DIGEST), "hashAlgorithm": "sha256", "tsaPolicyOID": 1},
            FailureInfo.BAD_DATA_FORMAT,
            "tsaPolicyOID",
        ),
        (
            {"artifactHash": b64(DIGEST), "hashAlgorithm": "sha256", "tsaPolicyOID": "1.2.x"},
            FailureInfo.BAD_DATA_FORMAT,
            "OID",
        ),
    ],
)
def test_json_refusals(body: object, failure: FailureInfo, words: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        request_from_json(body)
    assert caught.value.failure is failure
    assert words in str(caught.value)
