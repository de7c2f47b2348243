"""Fulcio ``signingCert`` request bodies (v2 JSON and legacy v1), parsed strictly.

Parsing checks the shape of the body and decodes its base64; the key itself is
parsed and checked by :meth:`KeyRequest.public_key`, which the CA calls only
once the identity token is verified (Fulcio's order: token, key, key strength,
proof of possession).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from lacre.ca.possession import key_from_csr, load_public_key
from lacre.errors import InvalidInput
from lacre.jsontypes import type_name
from lacre.keys import PublicKey

MAX_FIELD = 64 * 1024


@dataclass(frozen=True)
class KeyRequest:
    """The key a certificate is requested for, and how possession is proven, as sent."""

    encoded: bytes
    """A PKCS#10 request (PEM or DER) when ``signed_name`` is None, else a public key."""
    signed_name: bytes | None
    """A signature over the principal's name; None when a CSR's self-signature proves it."""
    field: str
    """Where in the body ``encoded`` came from, for error messages."""

    def public_key(self) -> PublicKey:
        """The requested key, parsed and acceptable; for a CSR, its self-signature verified."""
        if self.signed_name is None:
            return key_from_csr(self.encoded)
        try:
            return load_public_key(self.encoded)
        except InvalidInput as exc:
            raise InvalidInput(
                f"{self.field}: {exc.message}", expected=exc.expected, found=exc.found
            ) from None


def _text(document: dict[str, object], field: str, path: str) -> str | None:
    value = document.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{path}: expected text, found {type_name(value)}")
    if len(value) > MAX_FIELD:
        raise InvalidInput(
            f"{path} too long", expected=f"at most {MAX_FIELD} characters", found=len(value)
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
        return token, _csr_request(csr)
    request = _object(pkr, "publicKeyRequest")
    public = _object(request.get("publicKey"), "publicKeyRequest.publicKey")
    content = _text(public, "content", "publicKeyRequest.publicKey.content")
    proof = _text(request, "proofOfPossession", "publicKeyRequest.proofOfPossession")
    if content is None or proof is None:
        raise InvalidInput("publicKeyRequest needs publicKey.content and proofOfPossession")
    return token, KeyRequest(
        content.encode(),
        _b64(proof, "publicKeyRequest.proofOfPossession"),
        "publicKeyRequest.publicKey.content",
    )


def parse_v1(body: object) -> KeyRequest:
    """The key request of a legacy ``/api/v1/signingCert`` body."""
    document = _object(body, "request")
    csr = _text(document, "certificateSigningRequest", "certificateSigningRequest")
    if csr is not None:
        return _csr_request(csr)
    public = _object(document.get("publicKey"), "publicKey")
    content = _text(public, "content", "publicKey.content")
    proof = _text(document, "signedEmailAddress", "signedEmailAddress")
    if content is None or proof is None:
        raise InvalidInput("request needs publicKey.content and signedEmailAddress, or a CSR")
    return KeyRequest(
        _b64(content, "publicKey.content"), _b64(proof, "signedEmailAddress"), "publicKey.content"
    )


def _csr_request(text: str) -> KeyRequest:
    field = "certificateSigningRequest"
    return KeyRequest(_b64(text, field), None, field)
