"""Client of a Fulcio-compatible CA: ``POST /api/v2/signingCert``.

Two request styles: a PKCS#10 CSR (its self-signature proves possession of the
key) and a public key with a proof of possession (a signature over the token's
principal name). Only the embedded-SCT answer is accepted, with the chain leaf
first.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lacre.clients.http import check_status, json_object, json_request, new_client, send
from lacre.errors import NetworkError
from lacre.keys import PublicKey
from lacre.x509.certificates import UNREADABLE_CERTIFICATE

SERVICE = "certificate authority"
PATH = "/api/v2/signingCert"
MAX_CHAIN = 10


class FulcioClient:
    """Asks a Fulcio-compatible CA for short-lived signing certificates."""

    def __init__(self, base_url: str, *, http: httpx.Client | None = None) -> None:
        """A client of the CA at ``base_url`` (served at the root of its origin)."""
        self.url = urljoin(base_url, PATH)
        self._http = http or new_client()

    def sign_csr(self, csr: x509.CertificateSigningRequest, token: str) -> list[x509.Certificate]:
        """Send ``csr`` with the identity ``token``; return the chain, leaf first."""
        pem = csr.public_bytes(serialization.Encoding.PEM)
        body = {"certificateSigningRequest": base64.b64encode(pem).decode("ascii")}
        return self._post(body, token)

    def sign_public_key(
        self, key: PublicKey, proof_of_possession: bytes, token: str
    ) -> list[x509.Certificate]:
        """Send ``key`` with its proof of possession and ``token``; return the chain."""
        body = {
            "credentials": {"oidcIdentityToken": token},
            "publicKeyRequest": {
                "publicKey": {"content": key.pem.decode("ascii")},
                "proofOfPossession": base64.b64encode(proof_of_possession).decode("ascii"),
            },
        }
        return self._post(body, token)

    def _post(self, body: Mapping[str, Any], token: str) -> list[x509.Certificate]:
        request = json_request(self._http, self.url, body, token=token)
        response = send(self._http, request, service=SERVICE, idempotent=False)
        check_status(response, SERVICE, ok=(200, 201))
        return parse_chain(json_object(response, SERVICE))


def parse_chain(answer: Mapping[str, Any]) -> list[x509.Certificate]:
    """The certificate chain of a ``signingCert`` answer with an embedded SCT."""
    embedded = answer.get("signedCertificateEmbeddedSct")
    if not isinstance(embedded, Mapping):
        found = "a detached SCT" if "signedCertificateDetachedSct" in answer else "neither form"
        raise NetworkError(
            "the certificate authority answered without an embedded SCT",
            expected="signedCertificateEmbeddedSct",
            found=found,
        )
    chain = embedded.get("chain")
    items = chain.get("certificates") if isinstance(chain, Mapping) else None
    if not isinstance(items, list) or not 2 <= len(items) <= MAX_CHAIN:
        found = f"{len(items)} certificates" if isinstance(items, list) else "no certificate list"
        raise NetworkError(
            "the certificate authority's chain has the wrong shape",
            expected=f"2 to {MAX_CHAIN} PEM certificates, leaf first",
            found=found,
        )
    return [_certificate(item, n) for n, item in enumerate(items)]


def _certificate(item: object, position: int) -> x509.Certificate:
    if not isinstance(item, str):
        raise NetworkError(
            f"certificate {position} of the chain", expected="a PEM string", found=repr(item)[:40]
        )
    try:
        return x509.load_pem_x509_certificate(item.encode("utf-8"))
    except (*UNREADABLE_CERTIFICATE, UnicodeEncodeError) as exc:
        raise NetworkError(
            f"certificate {position} of the chain is not a PEM certificate: {exc}"
        ) from None
