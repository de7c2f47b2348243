"""Client of a Rekor v1 log: ``POST /api/v1/log/entries`` (hashedrekord and dsse 0.0.1).

The answer (a LogEntry map) is turned into the ``TransparencyLogEntry`` a
bundle stores: integrated time, inclusion promise (SET) and inclusion proof
with its checkpoint. A duplicate (409) is fetched from the ``Location`` the
log names.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lacre.clients.http import check_status, json_object, json_request, new_client, send
from lacre.dsse import Envelope
from lacre.errors import InvalidInput, NetworkError
from lacre.keys import PublicKey
from lacre.models import protojson as pj
from lacre.models.tlog_entry import TransparencyLogEntry

SERVICE = "transparency log (Rekor v1)"
PATH = "/api/v1/log/entries"

Verifier = x509.Certificate | PublicKey
"""What verifies a logged signature: the signing certificate or a public key."""


def verifier_pem(verifier: Verifier) -> bytes:
    """The PEM text of a certificate or public key."""
    if isinstance(verifier, PublicKey):
        return verifier.pem
    return verifier.public_bytes(serialization.Encoding.PEM)


def hashedrekord(
    algorithm: str, digest: bytes, signature: bytes, verifier: Verifier
) -> dict[str, Any]:
    """A hashedrekord 0.0.1 ProposedEntry for a signature over ``digest``."""
    return {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": algorithm, "value": digest.hex()}},
            "signature": {
                "content": pj.b64(signature),
                "publicKey": {"content": pj.b64(verifier_pem(verifier))},
            },
        },
    }


def dsse(envelope: Envelope, verifier: Verifier) -> dict[str, Any]:
    """A dsse 0.0.1 ProposedEntry for ``envelope``."""
    return {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "proposedContent": {
                "envelope": json.dumps(envelope.to_json()),
                "verifiers": [pj.b64(verifier_pem(verifier))],
            }
        },
    }


class RekorV1Client:
    """Adds entries to a Rekor v1 log."""

    def __init__(self, base_url: str, *, http: httpx.Client | None = None) -> None:
        """A client of the log at ``base_url``."""
        self.base_url = base_url
        self._http = http or new_client()

    def log_message(
        self, *, algorithm: str, digest: bytes, signature: bytes, verifier: Verifier
    ) -> TransparencyLogEntry:
        """Log a signature over ``digest`` (``algorithm``: sha256, sha384 or sha512)."""
        return self.create_entry(hashedrekord(algorithm, digest, signature, verifier))

    def log_dsse(self, *, envelope: Envelope, verifier: Verifier) -> TransparencyLogEntry:
        """Log a DSSE envelope."""
        return self.create_entry(dsse(envelope, verifier))

    def create_entry(self, proposed: Mapping[str, Any]) -> TransparencyLogEntry:
        """Submit ``proposed``; return the entry as a bundle stores it."""
        url = urljoin(self.base_url, PATH)
        request = json_request(self._http, url, proposed)
        response = send(self._http, request, service=SERVICE, idempotent=True)
        if response.status_code == 409 and response.headers.get("Location"):
            response = self._existing(response.headers["Location"])
        check_status(response, SERVICE, ok=(200, 201))
        return entry_from_answer(json_object(response, SERVICE))

    def _existing(self, location: str) -> httpx.Response:
        url = urljoin(self.base_url, location)
        if not url.startswith(self.base_url.rstrip("/")):
            raise NetworkError(
                "the log names an existing entry elsewhere", expected=self.base_url, found=url
            )
        request = self._http.build_request("GET", url, headers={"Accept": "application/json"})
        return send(self._http, request, service=SERVICE, idempotent=True)


def entry_from_answer(answer: Mapping[str, Any]) -> TransparencyLogEntry:
    """Convert a Rekor v1 LogEntry map (one entry) into a ``TransparencyLogEntry``."""
    if len(answer) != 1:
        raise NetworkError(
            "the log's answer has the wrong shape", expected="one entry", found=len(answer)
        )
    ((_, entry),) = answer.items()
    try:
        return TransparencyLogEntry.from_json(_tle_json(pj.mapping(entry, "entry")), "entry")
    except (InvalidInput, binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise NetworkError(f"the log's answer is malformed: {exc}") from None


def _tle_json(entry: Mapping[str, Any]) -> dict[str, Any]:
    body = pj.text(entry, "body", "entry")
    kind = json.loads(pj.decode_b64(body, "entry.body"))
    verification = pj.child(entry, "verification", "entry")
    proof = pj.child(verification, "inclusionProof", "entry.verification")
    return {
        "logIndex": str(pj.int64(entry, "logIndex", "entry")),
        "logId": {"keyId": pj.b64(bytes.fromhex(pj.text(entry, "logID", "entry")))},
        "kindVersion": {"kind": kind["kind"], "version": kind["apiVersion"]},
        "integratedTime": str(pj.int64(entry, "integratedTime", "entry")),
        "inclusionPromise": {
            "signedEntryTimestamp": pj.text(
                verification, "signedEntryTimestamp", "entry.verification"
            )
        },
        "inclusionProof": {
            "logIndex": str(pj.int64(proof, "logIndex", "inclusionProof")),
            "treeSize": str(pj.int64(proof, "treeSize", "inclusionProof")),
            "rootHash": _hex_to_b64(pj.text(proof, "rootHash", "inclusionProof")),
            "hashes": [_hex_to_b64(item) for item in pj.array(proof, "hashes", "inclusionProof")],
            "checkpoint": {"envelope": pj.text(proof, "checkpoint", "inclusionProof")},
        },
        "canonicalizedBody": body,
    }


def _hex_to_b64(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput("inclusion proof hash", expected="a hex string", found=repr(value)[:40])
    return base64.b64encode(bytes.fromhex(value)).decode("ascii")
