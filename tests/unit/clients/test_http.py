"""Status mapping, size limits and retries of the shared HTTP plumbing."""

from __future__ import annotations

import httpx
import pytest

from lacre.clients import http as h
from lacre.errors import InvalidInput, NetworkError, NotFound, PushbackError, TooLarge
from tests.unit.clients.mock import Recorder, answer


def _send(
    recorder: Recorder, *, idempotent: bool = True, sleeps: list[float] | None = None
) -> httpx.Response:
    client = recorder.client()
    request = h.json_request(client, "https://svc.test/x", {"a": 1}, token="tok")
    waits = sleeps if sleeps is not None else []
    return h.send(
        client, request, service="test service", idempotent=idempotent, sleep=waits.append
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, InvalidInput),
        (401, InvalidInput),
        (404, NotFound),
        (413, TooLarge),
        (500, NetworkError),
        (503, PushbackError),
    ],
)
def test_every_non_2xx_becomes_a_lacre_error_with_the_server_message(
    status: int, kind: type
) -> None:
    response = httpx.Response(status, json={"code": status, "message": "it went wrong"})
    with pytest.raises(kind, match="it went wrong"):
        h.check_status(response, "test service", ok=(200,))


def test_a_non_json_error_body_is_previewed() -> None:
    response = httpx.Response(502, content=b"<html>bad gateway</html>")
    with pytest.raises(NetworkError, match="bad gateway"):
        h.check_status(response, "svc", ok=(200,))


def test_requests_carry_json_token_and_user_agent() -> None:
    recorder = Recorder(answer(200, json={}))
    _send(recorder)
    (request,) = recorder.requests
    assert request.headers["Authorization"] == "Bearer tok"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("lacre/")
    assert request.content == b'{"a": 1}'


def test_oversized_answers_are_refused() -> None:
    recorder = Recorder(answer(200, content=b"x" * (h.MAX_RESPONSE_BYTES + 1)))
    with pytest.raises(TooLarge):
        _send(recorder)


def test_garbage_and_wrong_json_types_are_network_errors() -> None:
    with pytest.raises(NetworkError, match="not JSON"):
        h.json_object(httpx.Response(200, content=b"\xff\x00garbage"), "svc")
    with pytest.raises(NetworkError, match="wrong JSON type"):
        h.json_object(httpx.Response(200, json=[1, 2]), "svc")


def test_connection_failures_are_retried_then_reported() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    recorder, sleeps = Recorder(refuse), list[float]()
    with pytest.raises(NetworkError, match="cannot reach the test service"):
        _send(recorder, idempotent=False, sleeps=sleeps)
    assert len(recorder.requests) == h.RETRIES
    assert sleeps == [h.BACKOFF_S, h.BACKOFF_S * 2]


def test_timeouts_are_not_retried() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    recorder = Recorder(slow)
    with pytest.raises(NetworkError, match="did not answer in time"):
        _send(recorder)
    assert len(recorder.requests) == 1


def test_pushback_is_retried_only_when_idempotent() -> None:
    answers = iter(
        [httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(200, json={})]
    )
    recorder, sleeps = Recorder(lambda _: next(answers)), list[float]()
    assert _send(recorder, sleeps=sleeps).status_code == 200
    assert sleeps == [2.0]
    once = Recorder(answer(503, json={"message": "busy"}))
    assert _send(once, idempotent=False).status_code == 503
    assert len(once.requests) == 1


def test_clients_always_have_a_timeout() -> None:
    client = h.new_client()
    assert client.timeout.read == h.DEFAULT_TIMEOUT_S
