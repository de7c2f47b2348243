"""The TSA client against lacre's own timestamp authority, and against bad ones."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from rfc3161_client import TimestampRequestBuilder, decode_timestamp_response
from rfc3161_client.base import HashAlgorithm

from lacre.clients.tsa import TimestampClient, check_response
from lacre.errors import InvalidInput, NetworkError
from lacre.tsa import TimestampAuthority
from tests.unit.clients.mock import Recorder, answer
from tests.unit.sign.fakes import timestamp_authority

URL = "https://tsa.test/api/v1/timestamp"


@pytest.fixture(scope="module")
def authority() -> TimestampAuthority:
    return timestamp_authority()


def _client(handler: object) -> TimestampClient:
    return TimestampClient(URL, http=Recorder(handler).client())  # type: ignore[arg-type]


def test_a_granted_timestamp_over_our_signature(authority: TimestampAuthority) -> None:
    recorder = Recorder(
        lambda request: httpx.Response(200, content=authority.respond(request.content).der)
    )
    der = TimestampClient(URL, http=recorder.client()).timestamp(b"signature")
    request = recorder.requests[0]
    assert request.headers["Content-Type"] == "application/timestamp-query"
    info = decode_timestamp_response(der).tst_info
    assert info.message_imprint.message == hashlib.sha256(b"signature").digest()
    assert info.nonce is not None


def _answer_for(authority: TimestampAuthority, data: bytes, *, nonce: bool = True) -> bytes:
    request = (
        TimestampRequestBuilder()
        .hash_algorithm(HashAlgorithm.SHA256)
        .data(data)
        .nonce(nonce=nonce)
        .build()
    )
    return authority.respond(request.as_bytes()).der


def test_a_replayed_answer_with_another_nonce_is_refused(authority: TimestampAuthority) -> None:
    stale = _answer_for(authority, b"signature")
    with pytest.raises(NetworkError, match="nonce"):
        _client(answer(200, content=stale)).timestamp(b"signature")


def test_an_answer_about_other_data_is_refused(authority: TimestampAuthority) -> None:
    other = _answer_for(authority, b"something else", nonce=False)
    with pytest.raises(NetworkError, match="something else than our signature"):
        check_response(other, b"signature", None)


def test_a_rejection_is_refused(authority: TimestampAuthority) -> None:
    rejected = authority.respond(b"\x30\x03\x02\x01\x05").der
    with pytest.raises(NetworkError, match="did not grant"):
        check_response(rejected, b"signature", None)


def test_garbage_errors_and_oversized_answers(authority: TimestampAuthority) -> None:
    with pytest.raises(NetworkError, match="not a TimeStampResp"):
        _client(answer(200, content=b"\x30\x82garbage")).timestamp(b"s")
    with pytest.raises(InvalidInput, match="unsupported hash"):
        _client(answer(400, json={"code": 400, "message": "unsupported hash"})).timestamp(b"s")
    with pytest.raises(NetworkError, match="HTTP 500"):
        _client(answer(500, content=b"")).timestamp(b"s")
    with pytest.raises(InvalidInput):
        _client(answer(200, content=b"\x00" * (9 << 20))).timestamp(b"s")
