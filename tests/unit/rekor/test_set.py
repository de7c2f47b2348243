import base64

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from lacre.errors import VerificationError
from lacre.keys import generate_signer
from lacre.rekor.set import set_payload, sign_set, verify_inclusion_promise


@given(
    body=st.binary(max_size=300),
    time=st.integers(min_value=0, max_value=2**53 - 1),
    log_id=st.binary(min_size=32, max_size=32),
    index=st.integers(min_value=0, max_value=2**53 - 1),
)
def test_payload_is_the_rfc8785_canonical_form(
    body: bytes, time: int, log_id: bytes, index: int
) -> None:
    expected = rfc8785.dumps(
        {
            "body": base64.b64encode(body).decode(),
            "integratedTime": time,
            "logID": log_id.hex(),
            "logIndex": index,
        }
    )
    assert set_payload(body, time, log_id, index) == expected


def test_set_verifies_and_binds_every_field() -> None:
    signer = generate_signer()
    signature = sign_set(signer, b"body", 1700000000, b"\x01" * 32, 7)
    verify_inclusion_promise(
        signer.public_key,
        signature,
        body=b"body",
        integrated_time=1700000000,
        log_id=b"\x01" * 32,
        log_index=7,
    )
    for changed in [
        (b"bodY", 1700000000, b"\x01" * 32, 7),
        (b"body", 1700000001, b"\x01" * 32, 7),
        (b"body", 1700000000, b"\x02" * 32, 7),
        (b"body", 1700000000, b"\x01" * 32, 8),
    ]:
        try:
            body, integrated_time, log_id, log_index = changed
            verify_inclusion_promise(
                signer.public_key,
                signature,
                body=body,
                integrated_time=integrated_time,
                log_id=log_id,
                log_index=log_index,
            )
        except VerificationError:
            continue
        raise AssertionError(f"SET verified for {changed}")
