"""Client of a Rekor v2 log: ``POST /api/v2/log/entries`` (hashedrekord 0.0.2).

A DSSE envelope is logged as a hashedrekord whose digest is the hash of its
Pre-Authentication Encoding, as current Sigstore clients do. The answer is
already a ``TransparencyLogEntry``; it arrives only once the entry is covered
by a checkpoint, so the timeout is generous.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urljoin

import httpx
from cryptography.hazmat.primitives import serialization

from lacre.clients.http import check_status, json_object, json_request, new_client, send
from lacre.clients.rekor_v1 import Verifier
from lacre.dsse import Envelope
from lacre.errors import InvalidInput, NetworkError
from lacre.keys import PublicKey
from lacre.models import protojson as pj
from lacre.models.tlog_entry import TransparencyLogEntry

SERVICE = "transparency log (Rekor v2)"
PATH = "/api/v2/log/entries"
TIMEOUT_S = 60.0


def verifier_json(verifier: Verifier) -> dict[str, Any]:
    """The v2 ``Verifier`` object: DER certificate or SPKI, with default key details."""
    if isinstance(verifier, PublicKey):
        material = {"publicKey": {"rawBytes": pj.b64(verifier.spki_der)}}
    else:
        der = verifier.public_bytes(serialization.Encoding.DER)
        material = {"x509Certificate": {"rawBytes": pj.b64(der)}}
    return {**material, "keyDetails": _key(verifier).default_details(prehashed=True).key_details}


def hashedrekord(digest: bytes, signature: bytes, verifier: Verifier) -> dict[str, Any]:
    """A ``CreateEntryRequest`` for a signature over ``digest``."""
    return {
        "hashedRekordRequestV002": {
            "digest": pj.b64(digest),
            "signature": {"content": pj.b64(signature), "verifier": verifier_json(verifier)},
        }
    }


def _key(verifier: Verifier) -> PublicKey:
    """The key that checks signatures by ``verifier`` (a key, or a certificate's key)."""
    return verifier if isinstance(verifier, PublicKey) else PublicKey.from_certificate(verifier)


def _hash_name(verifier: Verifier) -> str:
    name = _key(verifier).default_details(prehashed=True).hash_name
    assert name is not None  # prehashed details always name a hash
    return name


class RekorV2Client:
    """Adds entries to a Rekor v2 log."""

    def __init__(self, base_url: str, *, http: httpx.Client | None = None) -> None:
        """A client of the log at ``base_url``."""
        self.base_url = base_url
        self._http = http or new_client(timeout_s=TIMEOUT_S)

    def log_message(
        self, *, algorithm: str, digest: bytes, signature: bytes, verifier: Verifier
    ) -> TransparencyLogEntry:
        """Log a signature over ``digest``; ``algorithm`` must be the key's default hash."""
        expected = _hash_name(verifier)
        if algorithm != expected:
            raise InvalidInput(
                "Rekor v2 needs the digest of the key's default hash",
                expected=expected,
                found=algorithm,
            )
        return self.create_entry(hashedrekord(digest, signature, verifier))

    def log_dsse(self, *, envelope: Envelope, verifier: Verifier) -> TransparencyLogEntry:
        """Log a DSSE envelope as a hashedrekord over the hash of its PAE."""
        digest = hashlib.new(_hash_name(verifier), envelope.pae()).digest()
        return self.create_entry(hashedrekord(digest, envelope.signatures[0].sig, verifier))

    def create_entry(self, request_body: dict[str, Any]) -> TransparencyLogEntry:
        """Submit a ``CreateEntryRequest``; the answer is the entry as a bundle stores it."""
        url = urljoin(self.base_url, PATH)
        request = json_request(self._http, url, request_body)
        response = send(self._http, request, service=SERVICE, idempotent=True)
        check_status(response, SERVICE, ok=(200, 201))
        try:
            return TransparencyLogEntry.from_json(json_object(response, SERVICE), "entry")
        except InvalidInput as exc:
            raise NetworkError(f"the log's answer is malformed: {exc}") from None
