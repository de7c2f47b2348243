"""Request builders and response readers shared by the TSA tests."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms, core, tsp

from lacre.errors import ConfigError
from lacre.keys import KeyAlgorithm, PublicKey, Signer, SoftwareSigner, generate_signer
from lacre.tsa import TimestampAuthority, TimestampOptions, TsaChain, tsa_chain

NOW = dt.datetime(2026, 5, 4, 3, 2, 1, 987654, tzinfo=dt.UTC)
DIGEST = hashlib.sha256(b"signature bytes").digest()


def make_request(
    digest: bytes = DIGEST,
    *,
    hash_algorithm: str = "sha256",
    nonce: int | None = 1234567890,
    cert_req: bool = True,
    policy: str | None = None,
    version: int = 1,
    extensions: list[dict[str, Any]] | None = None,
    parameters: core.Asn1Value | None = None,
) -> bytes:
    """A DER TimeStampReq built with asn1crypto, with every field under the caller's control."""
    algorithm: dict[str, Any] = {"algorithm": hash_algorithm}
    if parameters is not None:
        algorithm["parameters"] = parameters
    fields: dict[str, Any] = {
        "version": version,
        "message_imprint": {"hash_algorithm": algorithm, "hashed_message": digest},
        "cert_req": cert_req,
    }
    if nonce is not None:
        fields["nonce"] = nonce
    if policy is not None:
        fields["req_policy"] = policy
    if extensions is not None:
        fields["extensions"] = extensions
    return bytes(tsp.TimeStampReq(fields).dump())


@dataclass(frozen=True)
class Tsa:
    """A TSA with its signer, chain and root signer."""

    authority: TimestampAuthority
    signer: Signer
    chain: TsaChain
    root_signer: SoftwareSigner


def make_tsa(
    algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256_SHA256,
    *,
    signer: Signer | None = None,
    options: TimestampOptions | None = None,
    now: dt.datetime = NOW,
) -> Tsa:
    """A TSA whose clock is fixed at ``now``; a fresh key unless ``signer`` is given."""
    signer = signer or generate_signer(algorithm)
    root_signer = generate_signer(KeyAlgorithm.ECDSA_P384_SHA384)
    chain = tsa_chain(
        root_signer=root_signer,
        tsa_key=signer.public_key,
        organization="lacre test",
        not_before=now - dt.timedelta(days=1),
    )
    authority = TimestampAuthority(signer, chain, options, clock=lambda: now)
    return Tsa(authority, signer, chain, root_signer)


def load_response(der: bytes) -> tsp.TimeStampResp:
    """Parse a granted TimeStampResp fully (raises if any part is malformed)."""
    response = tsp.TimeStampResp.load(der, strict=True)
    response.native  # noqa: B018 - parse every field
    return response


def signed_data(der: bytes) -> cms.SignedData:
    """The SignedData of a granted TimeStampResp (parsed lazily)."""
    return tsp.TimeStampResp.load(der, strict=True)["time_stamp_token"]["content"]


def tst_info(der: bytes) -> dict[str, Any]:
    """The TSTInfo of a granted TimeStampResp, as native values."""
    content = signed_data(der)["encap_content_info"]["content"]
    info: dict[str, Any] = content.parsed.native
    return info


def load_rejection(der: bytes) -> dict[str, Any]:
    """The PKIStatusInfo of a rejection (a TimeStampResp without token), as native values."""
    outer = core.Sequence.load(der, strict=True)
    status_info = tsp.PKIStatusInfo.load(outer.contents, strict=True)  # and no token after it
    native: dict[str, Any] = status_info.native
    return native


class WrappedSigner:
    """A Signer that is not a SoftwareSigner (as a PKCS#11 key is not), counting signatures."""

    def __init__(self, inner: SoftwareSigner, *, fail: bool = False) -> None:
        self.inner = inner
        self.fail = fail
        self.calls = 0

    @property
    def public_key(self) -> PublicKey:
        return self.inner.public_key

    def sign(self, data: bytes) -> bytes:
        self.calls += 1
        if self.fail:
            raise ConfigError("token removed")
        return self.inner.sign(data)
