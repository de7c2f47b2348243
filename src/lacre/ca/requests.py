"""Fulcio ``signingCert`` request bodies (v2 JSON and legacy v1), parsed strictly."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from lacre.ca.possession import key_from_csr
from lacre.errors import InvalidInput
from lacre.jsontypes import type_name
from lacre.keys import PublicKey

MAX_FIELD = 64 * 1024


@dataclass(frozen=True)
class KeyRequest:
    """The key a certificate is requested for, and how possession is proven."""

    key: PublicKey
    signed_name: bytes | None
    """A signature over the principal's name; None when a CSR's self-signature proved it."""


def _text(document: dict[str, object], field: str, path: str) -> str | None:
    value = document.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        raise InvalidInput(
            f"{path}: expected text of at most {MAX_FIELD} bytes, found {type_name(value)}"
        )
    return value


def _b64(text: str, path: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{path}: not valid base64") from exc


def _object(value: object, path: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{path}: expected a JSON object, found {type_name(value)}")
    return value


def _key(content: bytes, path: str) -> PublicKey:
    if content.lstrip().startswith(b"-----BEGIN"):
        return PublicKey.from_pem(content)
    try:
        return PublicKey.from_der(content)
    except InvalidInput as exc:
        raise InvalidInput(f"{path}: expected a PEM or DER public key: {exc.message}") from exc


def parse_v2(body: object) -> tuple[str | None, KeyRequest]:
    """(token from the body or None, key request) of a ``/api/v2/signingCert`` body."""
    document = _object(body, "request")
    credentials = _object(document.get("credentials") or {}, "credentials")
    token = _text(credentials, "oidcIdentityToken", "credentials.oidcIdentityToken")
    csr = _text(document, "certificateSigningRequest", "certificateSigningRequest")
    pkr = document.get("publicKeyRequest")
    if (csr is None) == (pkr is None):
        raise InvalidInput(
            "request must have exactly one of publicKeyRequest or certificateSigningRequest"
        )
    if csr is not None:
        return token, KeyRequest(key_from_csr(_b64(csr, "certificateSigningRequest")), None)
    request = _object(pkr, "publicKeyRequest")
    public = _object(request.get("publicKey"), "publicKeyRequest.publicKey")
    content = _text(public, "content", "publicKeyRequest.publicKey.content")
    proof = _text(request, "proofOfPossession", "publicKeyRequest.proofOfPossession")
    if content is None or proof is None:
        raise InvalidInput("publicKeyRequest needs publicKey.content and proofOfPossession")
    key = _key(content.encode(), "publicKeyRequest.publicKey.content")
    return token, KeyRequest(key, _b64(proof, "publicKeyRequest.proofOfPossession"))


def parse_v1(body: object) -> KeyRequest:
    """The key request of a legacy ``/api/v1/signingCert`` body."""
    document = _object(body, "request")
    csr = _text(document, "certificateSigningRequest", "certificateSigningRequest")
    if csr is not None:
        return KeyRequest(key_from_csr(_b64(csr, "certificateSigningRequest")), None)
    public = _object(document.get("publicKey"), "publicKey")
    content = _text(public, "content", "publicKey.content")
    proof = _text(document, "signedEmailAddress", "signedEmailAddress")
    if content is None or proof is None:
        raise InvalidInput("request needs publicKey.content and signedEmailAddress, or a CSR")
    key = _key(_b64(content, "publicKey.content"), "publicKey.content")
    return KeyRequest(key, _b64(proof, "signedEmailAddress"))
