"""The timestamp authority: requests in, signed ``TimeStampResp`` messages out.

:meth:`TimestampAuthority.respond` never raises for a bad request: it answers
with a ``rejection`` carrying the ``PKIFailureInfo`` bit and a status string
saying what was expected and what was found. A key that fails to sign yields a
``systemFailure`` rejection.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization

from lacre.errors import ConfigError, Error
from lacre.keys import Signer
from lacre.tsa.chain import TsaChain
from lacre.tsa.request import (
    FailureInfo,
    RequestRejected,
    TimestampRequest,
    parse_request,
    request_from_json,
)
from lacre.tsa.token import Accuracy, TokenContent, TokenSigner, rejection
from lacre.x509.builders import random_serial

DEFAULT_POLICY = "1.3.6.1.4.1.57264.2"
"""Sigstore's timestamp policy OID, used when a request names none."""

Clock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, kw_only=True)
class TimestampOptions:
    """How the authority answers.

    ``policy`` goes in tokens whose request names no policy; a request may also
    name one of ``accepted_policies``. Requests carrying extensions are refused
    unless every extension OID is in ``accepted_extensions`` (they are then
    ignored). With ``embed_chain`` false, a request with certReq gets the leaf only.
    """

    policy: str = DEFAULT_POLICY
    accepted_policies: frozenset[str] = frozenset()
    accuracy: Accuracy = field(default_factory=Accuracy)
    accepted_extensions: frozenset[str] = frozenset()
    embed_chain: bool = True

    @property
    def policies(self) -> frozenset[str]:
        """Every policy a request may name."""
        return self.accepted_policies | {self.policy}


@dataclass(frozen=True)
class Reply:
    """A DER ``TimeStampResp``; ``failure`` and ``reason`` are None when it grants a token."""

    der: bytes
    failure: FailureInfo | None = None
    reason: str | None = None

    @property
    def granted(self) -> bool:
        """Whether the reply carries a token."""
        return self.failure is None


class TimestampAuthority:
    """Signs timestamp tokens with ``signer``, whose certificate is ``chain.leaf``."""

    def __init__(
        self,
        signer: Signer,
        chain: TsaChain,
        options: TimestampOptions | None = None,
        *,
        clock: Clock = _utc_now,
    ) -> None:
        """Check that ``signer`` holds the leaf's key and prepare the token signer."""
        if not hmac.compare_digest(signer.public_key.spki_der, _leaf_spki(chain)):
            raise ConfigError(
                "the TSA key does not match the TSA certificate",
                expected=chain.leaf.subject.rfc4514_string(),
                found="a different public key",
            )
        self.signer = signer
        self.chain = chain
        self.options = options or TimestampOptions()
        self._clock = clock
        self._tokens = TokenSigner(
            signer, chain, accuracy=self.options.accuracy, embed_chain=self.options.embed_chain
        )

    def timestamp(self, request: TimestampRequest) -> bytes:
        """The DER ``TimeStampResp`` granting ``request``; raises :class:`RequestRejected`."""
        self._check(request)
        now = self._clock().astimezone(dt.UTC).replace(microsecond=0)
        content = TokenContent(
            request=request,
            policy=request.policy or self.options.policy,
            serial_number=random_serial(),
            gen_time=now,
        )
        return self._tokens.sign(content)

    def respond(self, der: bytes) -> Reply:
        """Answer a DER ``TimeStampReq``: a token, or a rejection saying why."""
        return self._answer(lambda: parse_request(der))

    def respond_json(self, body: object) -> Reply:
        """Answer the JSON request form (see :func:`~lacre.tsa.request.request_from_json`)."""
        return self._answer(lambda: request_from_json(body))

    def _answer(self, parse: Callable[[], TimestampRequest]) -> Reply:
        try:
            return Reply(self.timestamp(parse()))
        except RequestRejected as exc:
            return _rejected(exc.failure, str(exc))
        except Error as exc:  # the key failed to sign
            return _rejected(FailureInfo.SYSTEM_FAILURE, f"the TSA could not sign: {exc.message}")

    def _check(self, request: TimestampRequest) -> None:
        if request.policy is not None and request.policy not in self.options.policies:
            raise RequestRejected(
                FailureInfo.UNACCEPTED_POLICY,
                "unaccepted policy",
                expected=" or ".join(sorted(self.options.policies)),
                found=request.policy,
            )
        refused = [oid for oid in request.extensions if oid not in self.options.accepted_extensions]
        if refused:
            raise RequestRejected(
                FailureInfo.UNACCEPTED_EXTENSION,
                "unaccepted request extension",
                expected=" or ".join(sorted(self.options.accepted_extensions)) or "no extensions",
                found=", ".join(refused[:8]),
            )


def _rejected(failure: FailureInfo, reason: str) -> Reply:
    return Reply(rejection(failure, reason), failure, reason)


def _leaf_spki(chain: TsaChain) -> bytes:
    return chain.leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
