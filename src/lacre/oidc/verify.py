"""Identity-token verification (protocols §1.6), pure: keys come from a :class:`JwksSource`.

:class:`TokenVerifier` refuses, with a message naming the failed check: oversized or
malformed tokens, algorithms outside the asymmetric allow-list (``none`` and every MAC
included), unconfigured issuers, unknown key ids (after one refresh of the issuer's keys),
bad signatures, a wrong audience, expired, not-yet-valid or future-issued tokens, and email
identities whose ``email_verified`` is not true.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from lacre.errors import TooLarge
from lacre.oidc.issuers import IssuerConfig, Issuers, IssuerType, TokenError
from lacre.oidc.jwks import Jwk, JwksSource
from lacre.oidc.principal import Principal, principal_for

ALLOWED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
"""JWS algorithms accepted for identity tokens; never ``none``, never a MAC."""

MAX_TOKEN_BYTES = 64 * 1024
"""Largest token accepted."""

CLOCK_SKEW_S = 60.0
"""Tolerance, in seconds, on ``exp``, ``nbf`` and ``iat``."""

_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}
_JWS_ALGORITHMS = {name: jwt.PyJWS().get_algorithm_by_name(name) for name in ALLOWED_ALGORITHMS}
"""PyJWT's implementation of each allowed algorithm, used on keys :func:`_fits` accepted."""
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_MAX_NUMERIC_DATE = 253402300799  # 9999-12-31T23:59:59Z


class TokenTooLarge(TokenError, TooLarge):
    """A token over the size limit."""


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature and claims passed every check, with its issuer's configuration."""

    issuer: IssuerConfig
    header: Mapping[str, object]
    claims: Mapping[str, object]


class TokenVerifier:
    """Verifies OIDC identity tokens against configured issuers and their keys."""

    def __init__(
        self,
        issuers: Issuers | Iterable[IssuerConfig],
        keys: JwksSource,
        clock: Callable[[], float] = time.time,
        *,
        skew_s: float = CLOCK_SKEW_S,
        max_bytes: int = MAX_TOKEN_BYTES,
    ) -> None:
        """Trust ``issuers``, get their keys from ``keys``; ``clock`` returns Unix seconds."""
        self._issuers = issuers if isinstance(issuers, Issuers) else Issuers(issuers)
        self._keys = keys
        self._clock = clock
        self._skew = skew_s
        self._max_bytes = max_bytes

    @property
    def issuers(self) -> Issuers:
        """The issuers this verifier trusts."""
        return self._issuers

    def verify(self, token: str) -> VerifiedToken:
        """Verify ``token``; raise TokenError naming the first check that fails."""
        size = len(token.encode("utf-8", "surrogatepass"))
        if size > self._max_bytes:
            raise TokenTooLarge(
                "token too large", expected=f"at most {self._max_bytes} bytes", found=size
            )
        header, claims, signature = _parse(token)
        alg = _check_header(header)
        issuer = claims.get("iss")
        if not isinstance(issuer, str) or not issuer:
            raise TokenError("claim iss is missing or not a string", found=repr(issuer))
        config = self._issuers.match(issuer)
        kid = header.get("kid")
        if not isinstance(kid, str | None):
            raise TokenError("header kid is not a string", found=repr(kid))
        signing_input = token.rpartition(".")[0].encode("ascii")
        keys = self._candidates(issuer, kid, alg)
        _check_signature(signing_input, signature, alg, kid, issuer, keys)
        self._check_claims(config, claims)
        return VerifiedToken(issuer=config, header=header, claims=claims)

    def principal(self, token: str) -> Principal:
        """Verify ``token`` and map its claims to the certificate identity."""
        verified = self.verify(token)
        return principal_for(verified.issuer, verified.claims)

    def _candidates(self, issuer: str, kid: str | None, alg: str) -> list[Jwk]:
        found = _with_kid(self._keys.keys(issuer), kid)
        if not found and self._keys.refresh(issuer):
            found = _with_kid(self._keys.keys(issuer), kid)
        if not found and kid is None:
            raise TokenError(f"issuer {issuer} publishes no keys")
        if not found:
            known = sorted({str(key.kid) for key in self._keys.keys(issuer)})
            raise TokenError(f"unknown key id at {issuer}", expected=_one_of(known), found=kid)
        usable = [key for key in found if _fits(key, alg)]
        if not usable:
            raise TokenError(f"key {kid} of {issuer} cannot verify {alg}")
        return usable

    def _check_claims(self, config: IssuerConfig, claims: Mapping[str, object]) -> None:
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or config.client_id not in audiences:
            found = ", ".join(map(str, audiences)) if isinstance(audiences, list) else audience
            raise TokenError("audience mismatch", expected=config.client_id, found=found)
        now = self._clock()
        expires = _required_date(claims, "exp")
        if now >= expires + self._skew:
            raise TokenError(f"token expired at {_iso(expires)}; now {_iso(now)}")
        not_before = _date(claims, "nbf")
        if not_before is not None and not_before > now + self._skew:
            raise TokenError(f"token not yet valid (nbf {_iso(not_before)}; now {_iso(now)})")
        issued = _required_date(claims, "iat")
        if issued > now + self._skew:
            raise TokenError(f"token issued in the future (iat {_iso(issued)}; now {_iso(now)})")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise TokenError("claim sub is missing or not a non-empty string")
        if config.type is IssuerType.EMAIL and not config.skip_email_verification:
            _check_email_verified(claims)


def _check_email_verified(claims: Mapping[str, object]) -> None:
    if "email_verified" not in claims:
        raise TokenError("claim email_verified is missing", expected="true")
    verified = claims["email_verified"]
    if verified is not True and verified not in ("true", "True"):
        raise TokenError(
            "claim email_verified is not true", expected="true", found=json.dumps(verified)
        )


def _parse(token: str) -> tuple[dict[str, object], dict[str, object], bytes]:
    """Header, claims and signature of a JWS compact serialization."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("malformed token", expected="3 dot-separated parts", found=len(parts))
    names = ("header", "payload", "signature")
    raw = [_b64decode(part, name) for part, name in zip(parts, names, strict=True)]
    return _json(raw[0], "header"), _json(raw[1], "payload"), raw[2]


def _b64decode(part: str, name: str) -> bytes:
    if not _B64URL.fullmatch(part) or len(part) % 4 == 1:
        raise TokenError(f"malformed token: {name} is not base64url", found=part[:16])
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - excluded by the pattern above
        raise TokenError(f"malformed token: {name} is not base64url") from None


def _unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _no_constant(text: str) -> object:
    raise ValueError(f"{text} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_unique, parse_constant=_no_constant)
"""Strict JSON: no duplicate members, no NaN or Infinity; built once (tokens are UTF-8)."""


def _json(data: bytes, name: str) -> dict[str, object]:
    try:
        value = _DECODER.decode(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError(f"malformed token: {name} is not JSON", found=str(exc)) from None
    except RecursionError:
        raise TokenError(f"malformed token: {name} is nested too deeply") from None
    if not isinstance(value, dict):
        raise TokenError(f"malformed token: {name} is not a JSON object", found=type(value))
    return value


def _check_header(header: Mapping[str, object]) -> str:
    alg = header.get("alg")
    allowed = f"one of {', '.join(ALLOWED_ALGORITHMS)}"
    if not isinstance(alg, str) or alg.lower() == "none":
        raise TokenError(f"alg {alg} is not allowed (an unsigned token)", expected=allowed)
    if alg not in ALLOWED_ALGORITHMS:
        raise TokenError(f"{alg} is not allowed", expected=allowed)
    for name in ("crit", "b64"):
        if name in header:
            raise TokenError(f"header parameter {name} is not supported")
    return alg


def _with_kid(keys: Sequence[Jwk], kid: str | None) -> list[Jwk]:
    return [key for key in keys if kid is None or key.kid == kid]


def _fits(jwk: Jwk, alg: str) -> bool:
    key = jwk.key
    if jwk.alg is not None and jwk.alg != alg:
        return False
    if alg.startswith(("RS", "PS")):
        return isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048
    if alg in _CURVES:
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, _CURVES[alg])
    return isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)


def _check_signature(
    signing_input: bytes, signature: bytes, alg: str, kid: str | None, issuer: str, keys: list[Jwk]
) -> None:
    """Check the JWS signature with each candidate key (already fitted to ``alg``) in turn."""
    algorithm = _JWS_ALGORITHMS[alg]
    if any(algorithm.verify(signing_input, jwk.key, signature) for jwk in keys):
        return
    if kid is None:
        raise TokenError(f"signature does not verify with any key of {issuer}")
    raise TokenError(f"signature does not verify with key {kid}")


def _one_of(names: Sequence[str], limit: int = 8) -> str:
    """``one of a, b, c`` (at most ``limit`` names), or ``none`` for no names."""
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return f"one of {shown}{', ...' if len(names) > limit else ''}"


def _required_date(claims: Mapping[str, object], name: str) -> float:
    value = _date(claims, name)
    if value is None:
        raise TokenError(f"claim {name} is missing or not a NumericDate", found="nothing")
    return value


def _date(claims: Mapping[str, object], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= _MAX_NUMERIC_DATE
    ):
        raise TokenError(f"claim {name} is missing or not a NumericDate", found=repr(value))
    return float(value)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
