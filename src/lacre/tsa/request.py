"""Timestamp requests: the RFC 3161 ``TimeStampReq`` (DER) and the JSON form of sigstore-js.

Both forms become one :class:`TimestampRequest`. Anything unacceptable raises
:class:`RequestRejected`, which names the RFC 3161 ``PKIFailureInfo`` bit the
answer carries and says what was expected and what was found.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from asn1crypto import tsp

from lacre.errors import InvalidInput

MAX_REQUEST_BYTES = 64 * 1024
"""Largest request (DER or JSON) the authority reads."""
MAX_NONCE_BITS = 256
"""Largest nonce echoed: 32 bytes is far more than any client sends (64 bits usually)."""

HASH_OIDS: dict[str, str] = {
    "sha256": "2.16.840.1.101.3.4.2.1",
    "sha384": "2.16.840.1.101.3.4.2.2",
    "sha512": "2.16.840.1.101.3.4.2.3",
}
"""The message-imprint hash algorithms accepted, by name."""
DIGEST_SIZES: dict[str, int] = {"sha256": 32, "sha384": 48, "sha512": 64}
_NAMES_BY_OID = {oid: name for name, oid in HASH_OIDS.items()}
_ACCEPTED = "SHA-256, SHA-384 or SHA-512"
_T = TypeVar("_T")
_OID_PATTERN = re.compile(r"[0-2](\.(0|[1-9][0-9]{0,18})){1,63}")


class FailureInfo(enum.Enum):
    """The ``PKIFailureInfo`` bits a rejection carries (RFC 3161 §2.4.2), by asn1crypto name."""

    BAD_ALG = "bad_alg"
    BAD_REQUEST = "bad_request"
    BAD_DATA_FORMAT = "bad_data_format"
    TIME_NOT_AVAILABLE = "time_not_available"
    UNACCEPTED_POLICY = "unaccepted_policy"
    UNACCEPTED_EXTENSION = "unaccepted_extensions"
    ADD_INFO_NOT_AVAILABLE = "add_info_not_available"
    SYSTEM_FAILURE = "system_failure"


class RequestRejected(InvalidInput):
    """A timestamp request the authority refuses; ``failure`` is the PKIFailureInfo bit."""

    def __init__(
        self,
        failure: FailureInfo,
        message: str,
        *,
        expected: object = None,
        found: object = None,
    ) -> None:
        """Build a rejection with its failure bit and what was expected and found."""
        self.failure = failure
        super().__init__(message, expected=expected, found=found)


@dataclass(frozen=True, kw_only=True)
class TimestampRequest:
    """A validated timestamp request.

    ``hash_name`` is ``sha256``, ``sha384`` or ``sha512``; ``policy`` the requested
    policy OID (dotted) or None; ``extensions`` the OIDs of request extensions.
    """

    hash_name: str
    hashed_message: bytes
    nonce: int | None = None
    cert_req: bool = False
    policy: str | None = None
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse imprints and nonces outside what the authority signs."""
        _check_imprint(self.hash_name, self.hashed_message)
        if self.nonce is not None:
            _check_nonce(self.nonce)
        if self.policy is not None:
            _check_oid(self.policy)

    @property
    def hash_oid(self) -> str:
        """The dotted OID of the imprint's hash algorithm."""
        return HASH_OIDS[self.hash_name]


def parse_request(der: bytes) -> TimestampRequest:
    """Parse a DER ``TimeStampReq``; raise :class:`RequestRejected` for anything unacceptable."""
    if len(der) > MAX_REQUEST_BYTES:
        raise RequestRejected(
            FailureInfo.BAD_DATA_FORMAT,
            "timestamp request too large",
            expected=f"at most {MAX_REQUEST_BYTES} bytes",
            found=f"{len(der)} bytes",
        )
    native = _decode(der)
    if native["version"] != "v1":
        raise RequestRejected(
            FailureInfo.BAD_REQUEST,
            "unsupported request version",
            expected="1",
            found=native["version"],
        )
    imprint = native["message_imprint"]
    hash_name = _hash_name(imprint["hash_algorithm"])
    return TimestampRequest(
        hash_name=hash_name,
        hashed_message=imprint["hashed_message"],
        nonce=native["nonce"],
        cert_req=bool(native["cert_req"]),
        policy=native["req_policy"],
        extensions=tuple(ext["extn_id"] for ext in native["extensions"] or ()),
    )


def _decode(der: bytes) -> dict[str, Any]:
    try:
        request = tsp.TimeStampReq.load(der, strict=True)
        native: dict[str, Any] = request.native  # parses every field
        _check_parameters(request)
    except Exception as exc:  # asn1crypto is not hardened: hostile DER raises many kinds
        raise RequestRejected(
            FailureInfo.BAD_DATA_FORMAT,
            "timestamp request is not a DER TimeStampReq",
            expected="an RFC 3161 TimeStampReq",
            found=_first_line(exc),
        ) from None
    return native


def _check_parameters(request: Any) -> None:
    """Hash algorithm parameters must be absent or NULL."""
    parameters = request["message_imprint"]["hash_algorithm"]["parameters"]
    if parameters.native is not None:
        raise ValueError("hash algorithm parameters are neither absent nor NULL")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _hash_name(algorithm: Mapping[str, Any]) -> str:
    name = algorithm["algorithm"]
    name = _NAMES_BY_OID.get(name, name)
    if name not in HASH_OIDS:
        raise RequestRejected(
            FailureInfo.BAD_ALG, "unsupported message imprint hash", expected=_ACCEPTED, found=name
        )
    return str(name)


def _check_imprint(hash_name: str, hashed_message: bytes) -> None:
    if hash_name not in DIGEST_SIZES:
        raise RequestRejected(
            FailureInfo.BAD_ALG,
            "unsupported message imprint hash",
            expected=_ACCEPTED,
            found=hash_name,
        )
    size = DIGEST_SIZES[hash_name]
    if len(hashed_message) != size:
        raise RequestRejected(
            FailureInfo.BAD_DATA_FORMAT,
            f"message imprint length does not match {hash_name}",
            expected=f"{size} bytes",
            found=f"{len(hashed_message)} bytes",
        )


def _check_nonce(nonce: int) -> None:
    if not 0 <= nonce < 2**MAX_NONCE_BITS:
        raise RequestRejected(
            FailureInfo.BAD_DATA_FORMAT,
            "nonce out of range",
            expected=f"0 to 2**{MAX_NONCE_BITS} - 1",
            found="a negative number" if nonce < 0 else f"{nonce.bit_length()} bits",
        )


def _check_oid(oid: str) -> None:
    if not _OID_PATTERN.fullmatch(oid):
        raise RequestRejected(
            FailureInfo.BAD_DATA_FORMAT,
            "policy is not an object identifier",
            expected="a dotted OID such as 1.3.6.1.4.1.57264.2",
            found=repr(oid[:80]),
        )


# --- the JSON form ------------------------------------------------------------------

_JSON_FIELDS = ("artifactHash", "hashAlgorithm", "certificates", "nonce", "tsaPolicyOID")


def request_from_json(body: object) -> TimestampRequest:
    """The request a JSON body describes (``artifactHash`` and ``hashAlgorithm`` required).

    Other fields: ``certificates`` (bool, default false), ``nonce`` (non-negative
    integer), ``tsaPolicyOID`` (dotted OID). Unknown fields are ignored.
    """
    if not isinstance(body, dict):
        raise RequestRejected(
            FailureInfo.BAD_DATA_FORMAT,
            "timestamp request is not a JSON object",
            expected=f"an object with {', '.join(_JSON_FIELDS)}",
            found=type(body).__name__,
        )
    return TimestampRequest(
        hash_name=_json_hash_name(body.get("hashAlgorithm")),
        hashed_message=_json_digest(body.get("artifactHash")),
        nonce=_json_typed(body, "nonce", int, "an integer"),
        cert_req=_json_typed(body, "certificates", bool, "a boolean") or False,
        policy=_json_typed(body, "tsaPolicyOID", str, "a dotted OID string") or None,
    )


def _json_hash_name(value: object) -> str:
    if not isinstance(value, str):
        raise RequestRejected(
            FailureInfo.BAD_DATA_FORMAT,
            "hashAlgorithm is missing or not a string",
            expected="sha256, sha384 or sha512",
            found=type(value).__name__,
        )
    name = value.lower().replace("-", "").replace("_", "")
    if name not in HASH_OIDS:
        raise RequestRejected(
            FailureInfo.BAD_ALG,
            "unsupported hashAlgorithm",
            expected="sha256, sha384 or sha512",
            found=repr(value[:40]),
        )
    return name


def _json_digest(value: object) -> bytes:
    if not isinstance(value, str):
        raise RequestRejected(
            FailureInfo.BAD_DATA_FORMAT,
            "artifactHash is missing or not a string",
            expected="the base64 digest",
            found=type(value).__name__,
        )
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise RequestRejected(
            FailureInfo.BAD_DATA_FORMAT,
            "artifactHash is not base64",
            expected="standard base64 with padding",
            found=repr(value[:40]),
        ) from None


def _json_typed(body: Mapping[str, object], key: str, kind: type[_T], what: str) -> _T | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RequestRejected(
            FailureInfo.BAD_DATA_FORMAT,
            f"{key} has the wrong type",
            expected=what,
            found=type(value).__name__,
        )
    return value
