"""The authority's answers: every rejection is a TimeStampResp, never an exception."""

from __future__ import annotations

import base64

import pytest
from asn1crypto import core, tsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lacre.errors import ConfigError
from lacre.keys import KeyAlgorithm, generate_signer
from lacre.tsa import MAX_REQUEST_BYTES, FailureInfo, TimestampAuthority, TimestampOptions
from tests.unit.tsa.support import (
    DIGEST,
    WrappedSigner,
    load_rejection,
    make_request,
    make_tsa,
    tst_info,
)

TSA = make_tsa()
EXTENSION = {"extn_id": "1.2.3.99", "critical": True, "extn_value": b"\x05\x00"}
BITS = {
    FailureInfo.BAD_ALG: 0,
    FailureInfo.BAD_REQUEST: 2,
    FailureInfo.BAD_DATA_FORMAT: 5,
    FailureInfo.UNACCEPTED_POLICY: 15,
    FailureInfo.UNACCEPTED_EXTENSION: 16,
    FailureInfo.SYSTEM_FAILURE: 25,
}

REJECTIONS = [
    (b"garbage", FailureInfo.BAD_DATA_FORMAT, "expected an RFC 3161 TimeStampReq"),
    (make_request()[:-3], FailureInfo.BAD_DATA_FORMAT, "TimeStampReq"),
    (make_request() + b"\x00\x00", FailureInfo.BAD_DATA_FORMAT, "TimeStampReq"),
    (b"\x30" * (MAX_REQUEST_BYTES + 1), FailureInfo.BAD_DATA_FORMAT, "too large"),
    (make_request(b"\x00" * 20, hash_algorithm="sha1"), FailureInfo.BAD_ALG, "found sha1"),
    (make_request(b"\x00" * 16, hash_algorithm="md5"), FailureInfo.BAD_ALG, "found md5"),
    (make_request(DIGEST[:16]), FailureInfo.BAD_DATA_FORMAT, "expected 32 bytes, found 16"),
    (make_request(version=2), FailureInfo.BAD_REQUEST, "expected 1, found v2"),
    (make_request(extensions=[EXTENSION]), FailureInfo.UNACCEPTED_EXTENSION, "found 1.2.3.99"),
    (make_request(policy="1.2.3.4"), FailureInfo.UNACCEPTED_POLICY, "1.3.6.1.4.1.57264.2"),
    (make_request(nonce=-5), FailureInfo.BAD_DATA_FORMAT, "nonce"),
]


@pytest.mark.parametrize(("der", "failure", "words"), REJECTIONS)
def test_every_rejection_is_a_time_stamp_resp(der: bytes, failure: FailureInfo, words: str) -> None:
    reply = TSA.authority.respond(der)
    assert not reply.granted
    assert reply.failure is failure
    status = load_rejection(reply.der)
    assert status["status"] == "rejection"
    assert status["fail_info"] == {failure.value}
    assert words in status["status_string"][0]
    assert reply.reason == status["status_string"][0]


@pytest.mark.parametrize(("failure", "bit"), list(BITS.items()))
def test_failure_bits_on_the_wire(failure: FailureInfo, bit: int) -> None:
    from lacre.tsa.token import rejection

    status = tsp.PKIStatusInfo.load(core.Sequence.load(rejection(failure, "why")).contents)
    encoded = status["fail_info"].dump()
    assert encoded[0] == 0x03  # BIT STRING
    unused, data = encoded[2], encoded[3:]
    assert len(data) * 8 - unused == bit + 1  # DER: no trailing zero bits
    assert int.from_bytes(data, "big") >> unused == 1  # only bit ``bit`` is set


def test_rejection_text_is_bounded() -> None:
    from lacre.tsa.token import rejection

    status = tsp.PKIStatusInfo.load(
        core.Sequence.load(rejection(FailureInfo.BAD_REQUEST, "x" * 5000)).contents
    )
    assert len(status["status_string"][0].native) == 1000


def test_accepted_extensions_are_allowed() -> None:
    tsa = make_tsa(options=TimestampOptions(accepted_extensions=frozenset({"1.2.3.99"})))
    assert tsa.authority.respond(make_request(extensions=[EXTENSION])).granted


def test_default_policy_may_be_named() -> None:
    reply = TSA.authority.respond(make_request(policy="1.3.6.1.4.1.57264.2"))
    assert reply.granted


def test_signing_failure_is_a_system_failure_rejection() -> None:
    signer = WrappedSigner(generate_signer(), fail=True)
    tsa = make_tsa(signer=signer)
    reply = tsa.authority.respond(make_request())
    assert reply.failure is FailureInfo.SYSTEM_FAILURE
    assert "token removed" in load_rejection(reply.der)["status_string"][0]
    assert signer.calls == 1


def test_any_signer_signs_tokens() -> None:
    signer = WrappedSigner(generate_signer(KeyAlgorithm.ECDSA_P384_SHA384))
    tsa = make_tsa(signer=signer)
    assert tsa.authority.respond(make_request()).granted
    assert signer.calls == 1


def test_json_requests() -> None:
    body = {"artifactHash": base64.b64encode(DIGEST).decode(), "hashAlgorithm": "sha256"}
    reply = TSA.authority.respond_json(body)
    assert reply.granted
    assert tst_info(reply.der)["message_imprint"]["hashed_message"] == DIGEST
    refused = TSA.authority.respond_json({"artifactHash": "AA==", "hashAlgorithm": "sha256"})
    assert refused.failure is FailureInfo.BAD_DATA_FORMAT
    assert load_rejection(refused.der)["fail_info"] == {"bad_data_format"}


def test_key_must_match_the_leaf() -> None:
    with pytest.raises(ConfigError, match="does not match"):
        TimestampAuthority(generate_signer(), TSA.chain)


def test_ed25519_keys_are_refused() -> None:
    from lacre.tsa.token import Accuracy, TokenSigner

    with pytest.raises(ConfigError, match="ECDSA"):
        TokenSigner(
            generate_signer(KeyAlgorithm.ED25519), TSA.chain, accuracy=Accuracy(), embed_chain=True
        )


# --- fuzzing ----------------------------------------------------------------------------

VALID = make_request(policy="1.3.6.1.4.1.57264.2")


def assert_well_formed(der: bytes) -> None:
    """Every answer is a TimeStampResp: granted with a token, or a rejection without."""
    outer = core.Sequence.load(der, strict=True)
    status = tsp.PKIStatusInfo.load(outer.contents)  # the token, if any, follows
    assert status["status"].native in ("granted", "rejection")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_never_escape(data: bytes) -> None:
    reply = TSA.authority.respond(data)
    assert_well_formed(reply.der)
    if reply.granted:
        tst_info(reply.der)


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=len(VALID) - 1))
def test_truncations_are_rejected(cut: int) -> None:
    reply = TSA.authority.respond(VALID[:cut])
    assert reply.failure is FailureInfo.BAD_DATA_FORMAT
    assert_well_formed(reply.der)


@settings(max_examples=500)
@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.integers(min_value=1, max_value=255))
def test_byte_flips_never_escape(position: int, flip: int) -> None:
    data = bytearray(VALID)
    data[position] ^= flip
    reply = TSA.authority.respond(bytes(data))
    assert_well_formed(reply.der)
    if reply.granted:
        info = tst_info(reply.der)
        assert info["message_imprint"]["hash_algorithm"]["algorithm"] in (
            "sha256",
            "sha384",
            "sha512",
        )


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.sampled_from(["artifactHash", "hashAlgorithm", "certificates", "nonce", "tsaPolicyOID"]),
        st.none() | st.booleans() | st.integers() | st.text(max_size=80) | st.lists(st.integers()),
    )
)
def test_random_json_never_escapes(body: dict[str, object]) -> None:
    assert_well_formed(TSA.authority.respond_json(body).der)
