"""Granted responses: the TimeStampResp, SignedData, TSTInfo and SignerInfo, field by field."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import rfc3161_client
from asn1crypto import cms
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from lacre.keys import KeyAlgorithm
from lacre.tsa import DEFAULT_POLICY, Accuracy, TimestampOptions
from tests.unit.tsa.support import (
    DIGEST,
    NOW,
    load_response,
    make_request,
    make_tsa,
    signed_data,
    tst_info,
)

SIGNATURE_OIDS = {
    KeyAlgorithm.ECDSA_P256_SHA256: ("1.2.840.10045.4.3.2", "sha256"),
    KeyAlgorithm.ECDSA_P384_SHA384: ("1.2.840.10045.4.3.3", "sha384"),
}


def der_of(cert: object) -> bytes:
    from cryptography import x509

    assert isinstance(cert, x509.Certificate)
    return cert.public_bytes(serialization.Encoding.DER)


def test_granted_response_layout() -> None:
    tsa = make_tsa()
    der = tsa.authority.respond(make_request()).der
    response = load_response(der)
    assert response["status"]["status"].native == "granted"
    assert response["status"]["status_string"].native is None
    token = response["time_stamp_token"]
    assert token["content_type"].dotted == "1.2.840.113549.1.7.2"
    data = token["content"]
    assert data["version"].native == "v3"
    assert [alg["algorithm"].native for alg in data["digest_algorithms"]] == ["sha256"]
    assert data["encap_content_info"]["content_type"].dotted == "1.2.840.113549.1.9.16.1.4"
    assert len(data["signer_infos"]) == 1
    assert load_response(der).dump(force=True) == der  # canonical DER


def test_tst_info_fields() -> None:
    tsa = make_tsa()
    info = tst_info(tsa.authority.respond(make_request(nonce=2**200 + 7)).der)
    assert info["version"] == "v1"
    assert info["policy"] == DEFAULT_POLICY
    assert info["message_imprint"]["hash_algorithm"]["algorithm"] == "sha256"
    assert info["message_imprint"]["hashed_message"] == DIGEST
    assert info["nonce"] == 2**200 + 7
    assert info["gen_time"] == NOW.replace(microsecond=0)
    assert info["accuracy"] == {"seconds": 1, "millis": None, "micros": None}
    assert info["ordering"] is False
    assert 0 < info["serial_number"] < 2**160
    assert info["tsa"] == {"organization_name": "lacre test", "common_name": "lacre tsa"}


def test_gen_time_is_utc_generalized_time_without_fraction() -> None:
    zone = dt.timezone(dt.timedelta(hours=5))
    tsa = make_tsa(now=dt.datetime(2030, 1, 2, 8, 0, 0, 500, tzinfo=zone))
    der = tsa.authority.respond(make_request()).der
    assert b"\x18\x0f20300102030000Z" in der


def test_nonce_absent_when_not_requested() -> None:
    info = tst_info(make_tsa().authority.respond(make_request(nonce=None)).der)
    assert info["nonce"] is None


def test_serial_numbers_are_unique() -> None:
    tsa = make_tsa()
    serials = {
        tst_info(tsa.authority.respond(make_request()).der)["serial_number"] for _ in range(200)
    }
    assert len(serials) == 200


@pytest.mark.parametrize("name", ["sha256", "sha384", "sha512"])
def test_imprint_copied_for_each_hash(name: str) -> None:
    digest = hashlib.new(name, b"artifact").digest()
    info = tst_info(make_tsa().authority.respond(make_request(digest, hash_algorithm=name)).der)
    assert info["message_imprint"]["hash_algorithm"]["algorithm"] == name
    assert info["message_imprint"]["hashed_message"] == digest


def test_certificates_only_when_requested() -> None:
    tsa = make_tsa()
    without = signed_data(tsa.authority.respond(make_request(cert_req=False)).der)
    assert without["certificates"].native is None
    with_certs = signed_data(tsa.authority.respond(make_request(cert_req=True)).der)
    embedded = {cert.chosen.dump() for cert in with_certs["certificates"]}
    assert embedded == {der_of(tsa.chain.leaf), der_of(tsa.chain.root)}


def test_leaf_only_when_chain_embedding_is_off() -> None:
    tsa = make_tsa(options=TimestampOptions(embed_chain=False))
    data = signed_data(tsa.authority.respond(make_request()).der)
    assert [cert.chosen.dump() for cert in data["certificates"]] == [der_of(tsa.chain.leaf)]


def test_configured_policy_and_accuracy() -> None:
    options = TimestampOptions(
        policy="1.2.3.4",
        accepted_policies=frozenset({"1.2.3.5"}),
        accuracy=Accuracy(seconds=0, millis=500, micros=2),
    )
    tsa = make_tsa(options=options)
    info = tst_info(tsa.authority.respond(make_request()).der)
    assert info["policy"] == "1.2.3.4"
    assert info["accuracy"] == {"seconds": None, "millis": 500, "micros": 2}
    info = tst_info(tsa.authority.respond(make_request(policy="1.2.3.5")).der)
    assert info["policy"] == "1.2.3.5"


def test_zero_accuracy_is_omitted() -> None:
    tsa = make_tsa(options=TimestampOptions(accuracy=Accuracy(seconds=0)))
    assert tst_info(tsa.authority.respond(make_request()).der)["accuracy"] is None


@pytest.mark.parametrize("values", [{"seconds": -1}, {"millis": 1000}, {"micros": -1}])
def test_accuracy_limits(values: dict[str, int]) -> None:
    from lacre.errors import InvalidInput

    with pytest.raises(InvalidInput, match="accuracy"):
        Accuracy(**values)


@pytest.mark.parametrize("algorithm", list(SIGNATURE_OIDS))
def test_signer_info(algorithm: KeyAlgorithm) -> None:
    tsa = make_tsa(algorithm)
    der = tsa.authority.respond(make_request()).der
    data = signed_data(der)
    signer_info: cms.SignerInfo = data["signer_infos"][0]
    oid, hash_name = SIGNATURE_OIDS[algorithm]
    assert signer_info["version"].native == "v1"
    sid = signer_info["sid"]
    assert sid.name == "issuer_and_serial_number"
    assert sid.chosen["serial_number"].native == tsa.chain.leaf.serial_number
    assert sid.chosen["issuer"].dump() == tsa.chain.leaf.issuer.public_bytes()
    assert signer_info["digest_algorithm"]["algorithm"].native == hash_name
    assert signer_info["signature_algorithm"]["algorithm"].dotted == oid
    attributes = {attr["type"].native: attr["values"] for attr in signer_info["signed_attrs"]}
    assert list(attributes) == [
        "content_type",
        "signing_time",
        "message_digest",
        "signing_certificate_v2",
    ]
    assert attributes["content_type"][0].native == "tst_info"
    assert attributes["signing_time"][0].native == NOW.replace(microsecond=0)
    eci = data["encap_content_info"]["content"]
    assert attributes["message_digest"][0].native == hashlib.new(hash_name, eci.contents).digest()
    cert_id = attributes["signing_certificate_v2"][0]["certs"][0]
    assert cert_id["cert_hash"].native == hashlib.sha256(der_of(tsa.chain.leaf)).digest()
    assert cert_id["issuer_serial"]["serial_number"].native == tsa.chain.leaf.serial_number
    to_verify = signer_info["signed_attrs"].untag().dump(force=True)
    assert to_verify[0] == 0x31
    public = tsa.chain.leaf.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    chosen = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384()}[hash_name]
    public.verify(signer_info["signature"].native, to_verify, ec.ECDSA(chosen))


def test_signed_attributes_are_in_der_order() -> None:
    data = signed_data(make_tsa().authority.respond(make_request()).der)
    encoded = [attr.dump() for attr in data["signer_infos"][0]["signed_attrs"]]
    assert encoded == sorted(encoded)


@pytest.mark.parametrize("algorithm", list(SIGNATURE_OIDS))
@pytest.mark.parametrize("cert_req", [True, False])
def test_rfc3161_client_verifies(algorithm: KeyAlgorithm, cert_req: bool) -> None:
    tsa = make_tsa(algorithm, now=dt.datetime.now(dt.UTC))
    message = b"the signature bytes"
    request = make_request(hashlib.sha256(message).digest(), nonce=99, cert_req=cert_req)
    response = rfc3161_client.decode_timestamp_response(tsa.authority.respond(request).der)
    verifier = (
        rfc3161_client.VerifierBuilder()
        .tsa_certificate(tsa.chain.leaf)
        .add_root_certificate(tsa.chain.root)
        .nonce(99)
        .build()
    )
    assert verifier.verify_message(response, message) is True
    with pytest.raises(rfc3161_client.VerificationError):
        verifier.verify_message(response, b"another message")


def test_rfc3161_client_refuses_a_foreign_root() -> None:
    tsa = make_tsa(now=dt.datetime.now(dt.UTC))
    other = make_tsa(now=dt.datetime.now(dt.UTC))
    response = rfc3161_client.decode_timestamp_response(
        tsa.authority.respond(make_request(hashlib.sha256(b"m").digest())).der
    )
    verifier = rfc3161_client.VerifierBuilder().add_root_certificate(other.chain.root).build()
    with pytest.raises(rfc3161_client.VerificationError):
        verifier.verify_message(response, b"m")
