"""Reading a CA chain file."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from lacre.errors import InvalidInput
from lacre.keys import KeyAlgorithm, generate_signer
from lacre.x509.chains import MAX_CHAIN_PEM_BYTES, chain_pem, parse_ca_chain
from lacre.x509.profile import CaChain, ca_chain

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def make_chain() -> CaChain:
    return ca_chain(
        root_signer=generate_signer(KeyAlgorithm.ECDSA_P384_SHA384),
        intermediate_signer=generate_signer(KeyAlgorithm.ECDSA_P256_SHA256),
        organization="Example",
        not_before=NOW - dt.timedelta(days=1),
    )


def test_a_chain_round_trips() -> None:
    chain = make_chain()
    parsed = parse_ca_chain(chain_pem(chain), now=NOW)
    assert (parsed.intermediate, parsed.root) == (chain.intermediate, chain.root)


def test_wrong_order_is_refused() -> None:
    chain = make_chain()
    pem = chain.root.public_bytes(Encoding.PEM) + chain.intermediate.public_bytes(Encoding.PEM)
    with pytest.raises(InvalidInput, match="root is not self-signed"):
        parse_ca_chain(pem, now=NOW)


def test_an_intermediate_from_another_root_is_refused() -> None:
    one, other = make_chain(), make_chain()
    pem = chain_pem(CaChain(root=other.root, intermediate=one.intermediate))
    with pytest.raises(InvalidInput, match="root did not sign the intermediate"):
        parse_ca_chain(pem, now=NOW)


@pytest.mark.parametrize("count", [1, 3])
def test_the_number_of_certificates_is_checked(count: int) -> None:
    chain = make_chain()
    pem = b"".join([chain_pem(chain), chain.root.public_bytes(Encoding.PEM)])[
        : None if count == 3 else len(chain.intermediate.public_bytes(Encoding.PEM))
    ]
    with pytest.raises(InvalidInput, match="wrong number of certificates"):
        parse_ca_chain(pem, now=NOW)


def test_a_chain_outside_its_validity_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not valid now"):
        parse_ca_chain(chain_pem(make_chain()), now=NOW - dt.timedelta(days=2))


@pytest.mark.parametrize("pem", [b"", b"garbage", b"-----BEGIN CERTIFICATE-----\nAAAA\n"])
def test_garbage_is_refused(pem: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_ca_chain(pem, now=NOW)


def test_an_oversized_file_is_refused() -> None:
    with pytest.raises(InvalidInput, match="too large"):
        parse_ca_chain(b"x" * (MAX_CHAIN_PEM_BYTES + 1), now=NOW)
