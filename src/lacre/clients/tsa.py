"""Client of an RFC 3161 timestamp authority (``POST /api/v1/timestamp``, DER).

The request (built with ``rfc3161-client``) carries a SHA-256 imprint of the
signature, a random nonce and asks for the TSA certificate. The answer must be
a granted response echoing the nonce and the imprint; its signature is checked
later, by the verifier, against the trusted root.
"""

from __future__ import annotations

import hashlib

import httpx
from rfc3161_client import TimestampRequestBuilder, TimeStampResponse, decode_timestamp_response
from rfc3161_client.base import HashAlgorithm
from rfc3161_client.tsp import PKIStatus

from lacre.clients.http import check_status, new_client, send
from lacre.errors import NetworkError

SERVICE = "timestamp authority"
TIMEOUT_S = 10.0
REQUEST_TYPE = "application/timestamp-query"
RESPONSE_TYPE = "application/timestamp-reply"
SHA256_OID = "2.16.840.1.101.3.4.2.1"


class TimestampClient:
    """Asks one timestamp authority to timestamp signatures."""

    def __init__(self, url: str, *, http: httpx.Client | None = None) -> None:
        """A client of the TSA whose full POST URL is ``url``."""
        self.url = url
        self._http = http or new_client(timeout_s=TIMEOUT_S)

    def timestamp(self, signature: bytes) -> bytes:
        """A DER ``TimeStampResp`` over SHA-256 of ``signature``, nonce and imprint checked."""
        request = (
            TimestampRequestBuilder()
            .hash_algorithm(HashAlgorithm.SHA256)
            .data(signature)
            .nonce(nonce=True)
            .cert_request(cert_request=True)
            .build()
        )
        http_request = self._http.build_request(
            "POST",
            self.url,
            content=request.as_bytes(),
            headers={"Content-Type": REQUEST_TYPE, "Accept": RESPONSE_TYPE},
        )
        response = send(self._http, http_request, service=SERVICE, idempotent=True)
        check_status(response, SERVICE, ok=(200, 201))
        check_response(response.content, signature, request.nonce)
        return response.content


def check_response(der: bytes, signature: bytes, nonce: int | None) -> TimeStampResponse:
    """Parse ``der`` and require: granted, our nonce, a SHA-256 imprint of ``signature``."""
    try:
        answer = decode_timestamp_response(der)
    except ValueError as exc:
        raise NetworkError(
            "the timestamp authority's answer is not a TimeStampResp", found=str(exc)
        ) from None
    if answer.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise NetworkError(
            "the timestamp authority did not grant the timestamp",
            expected="status granted",
            found=f"status {answer.status} {answer.status_string}",
        )
    info = answer.tst_info
    if nonce is not None and info.nonce != nonce:
        raise NetworkError(
            "the timestamp does not echo our nonce", expected=nonce, found=info.nonce
        )
    imprint = info.message_imprint
    expected = hashlib.sha256(signature).digest()
    if imprint.hash_algorithm.dotted_string != SHA256_OID or imprint.message != expected:
        raise NetworkError(
            "the timestamp covers something else than our signature",
            expected=f"SHA-256 {expected.hex()}",
            found=f"{imprint.hash_algorithm.dotted_string} {imprint.message.hex()}",
        )
    return answer
