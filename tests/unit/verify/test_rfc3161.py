"""RFC 3161 responses read and checked against a trusted TSA, check by check.

Responses come from lacre's own timestamp authority; the refusals that need a
response whose signature is still valid are re-signed with the TSA's key after
the change, so that the named check, not the signature, is what refuses them.
rfc3161-client (sigstore-python's verifier) is the reference the outcomes are
compared with on tampered bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

import pytest
import rfc3161_client
from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lacre.errors import VerificationError
from lacre.keys import KeyAlgorithm, generate_signer
from lacre.tsa import TimestampAuthority
from lacre.tsa.chain import sign_certificate
from lacre.verify.rfc3161 import _check_crls, parse_response
from lacre.verify.tsa import TrustedTsa
from tests.unit.tsa.support import NOW, Tsa, make_request, make_tsa

TIME_STAMPING = ExtendedKeyUsageOID.TIME_STAMPING

MESSAGE = b"the bundle's signature"
Edit = Callable[[list[cms.CMSAttribute]], list[cms.CMSAttribute]]
"""A change to a response's signed attributes."""
GEN_TIME = NOW.replace(microsecond=0)


def respond(tsa: Tsa, message: bytes = MESSAGE, *, hash_name: str = "sha256") -> bytes:
    """A granted response of ``tsa`` over ``message``, its certificates embedded."""
    digest = hashlib.new(hash_name, message).digest()
    return tsa.authority.respond(make_request(digest, hash_algorithm=hash_name)).der


def trusted(tsa: Tsa) -> TrustedTsa:
    """``tsa`` as a verifier trusts it."""
    return TrustedTsa(tsa.chain.certificates)


def resign(
    der: bytes,
    tsa: Tsa,
    edit: Edit = lambda a: a,
    *,
    signer_info: Callable[[cms.SignerInfo], None] = lambda s: None,
) -> bytes:
    """``der`` with its signed attributes edited, signed again with the TSA's key."""
    response = tsp.TimeStampResp.load(der)
    info = response["time_stamp_token"]["content"]["signer_infos"][0]
    attributes = edit(list(info["signed_attrs"]))
    info["signed_attrs"] = cms.CMSAttributes(attributes) if attributes else None
    signer_info(info)
    if attributes:
        info["signature"] = tsa.signer.sign(info["signed_attrs"].untag().dump(force=True))
    return bytes(response.dump(force=True))


def without(name: str) -> Edit:
    """An edit dropping the attribute ``name``."""
    return lambda attributes: [a for a in attributes if a["type"].native != name]


def replacing(name: str, value: object) -> Edit:
    """An edit giving the attribute ``name`` the single value ``value``."""
    replacement = cms.CMSAttribute({"type": name, "values": [value]})
    return lambda attributes: [replacement if a["type"].native == name else a for a in attributes]


@pytest.fixture(scope="module")
def tsa() -> Tsa:
    """lacre's TSA with a P-256 key under a P-384 root, its clock at NOW."""
    return make_tsa()


@pytest.fixture(scope="module")
def der(tsa: Tsa) -> bytes:
    """A granted response over MESSAGE."""
    return respond(tsa)


def refused(tsa: Tsa, der: bytes, message: bytes = MESSAGE) -> str:
    """The reason ``der`` is refused as ``tsa``'s timestamp over ``message``."""
    with pytest.raises(VerificationError) as caught:
        trusted(tsa).verify(parse_response(der), message)
    return str(caught.value)


def test_a_granted_response_gives_its_gen_time(tsa: Tsa, der: bytes) -> None:
    assert trusted(tsa).verify(parse_response(der), MESSAGE) == GEN_TIME
    assert reference_accepts(tsa, der)


@pytest.mark.parametrize("hash_name", ["sha256", "sha384", "sha512"])
def test_every_supported_imprint_hash_verifies(tsa: Tsa, hash_name: str) -> None:
    token = parse_response(respond(tsa, hash_name=hash_name))
    assert trusted(tsa).verify(token, MESSAGE) == GEN_TIME


def test_a_p384_tsa_verifies() -> None:
    tsa = make_tsa(KeyAlgorithm.ECDSA_P384_SHA384)
    assert trusted(tsa).verify(parse_response(respond(tsa)), MESSAGE) == GEN_TIME


def test_a_timestamp_over_another_message_is_refused(tsa: Tsa, der: bytes) -> None:
    assert "timestamp is over another message" in refused(tsa, der, b"another signature")


def test_a_timestamp_by_another_tsa_is_refused(der: bytes) -> None:
    assert "signed by another certificate" in refused(make_tsa(), der)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x30", b"\x30\x03junk", b"\x04\x00", b"\x30\x80" + b"\x00" * 4, b"\xff" * 64],
    ids=["empty", "truncated-header", "junk", "octet-string", "indefinite", "ones"],
)
def test_what_is_not_a_time_stamp_resp_is_refused(data: bytes) -> None:
    with pytest.raises(VerificationError, match="not a DER TimeStampResp"):
        parse_response(data)


def test_truncated_and_extended_responses_are_refused(der: bytes) -> None:
    for data in (der[:-1], der[: len(der) // 2], der + b"\x00"):
        with pytest.raises(VerificationError, match="not a DER TimeStampResp"):
            parse_response(data)


def test_a_rejection_is_not_a_timestamp(tsa: Tsa) -> None:
    rejection = tsa.authority.respond(make_request(version=2)).der
    with pytest.raises(VerificationError, match="timestamp was not granted"):
        parse_response(rejection)


def test_a_changed_signature_is_refused(tsa: Tsa, der: bytes) -> None:
    response = tsp.TimeStampResp.load(der)
    info = response["time_stamp_token"]["content"]["signer_infos"][0]
    signature = bytearray(info["signature"].native)
    signature[-1] ^= 1
    info["signature"] = bytes(signature)
    changed = bytes(response.dump(force=True))
    assert "signature does not verify with the TSA key" in refused(tsa, changed)


def test_a_changed_tst_info_is_refused(tsa: Tsa, der: bytes) -> None:
    later = der.replace(GEN_TIME.strftime("%Y%m%d%H%M%SZ").encode(), b"20991231235959Z")
    assert later != der
    assert "message-digest attribute does not match its TSTInfo" in refused(tsa, later)


def test_re_signed_unchanged_attributes_verify(tsa: Tsa, der: bytes) -> None:
    assert trusted(tsa).verify(parse_response(resign(der, tsa)), MESSAGE) == GEN_TIME


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (without("signing_certificate_v2"), "does not name its signing certificate"),
        (without("content_type"), "no contentType signed attribute"),
        (without("message_digest"), "no messageDigest signed attribute"),
        (replacing("content_type", "data"), "content-type attribute"),
        (replacing("message_digest", b"\x00" * 32), "message-digest attribute does not match"),
        (lambda a: [*a, a[-1]], "must appear once, with one value"),
        (lambda a: [], "no signed attributes"),
        (
            replacing(
                "signing_certificate_v2",
                {"certs": [{"hash_algorithm": {"algorithm": "sha256"}, "cert_hash": b"\x01" * 32}]},
            ),
            "names another signing certificate",
        ),
        (
            replacing(
                "signing_certificate_v2",
                {"certs": [{"hash_algorithm": {"algorithm": "md5"}, "cert_hash": b"\x01" * 16}]},
            ),
            "ESSCertIDv2 hash",
        ),
    ],
    ids=[
        "no-ess",
        "no-content-type",
        "no-message-digest",
        "content-type-data",
        "message-digest-zero",
        "duplicate-attribute",
        "no-attributes",
        "ess-other-certificate",
        "ess-md5",
    ],
)
def test_signed_attribute_checks(
    tsa: Tsa,
    der: bytes,
    edit: Edit,
    reason: str,
) -> None:
    assert reason in refused(tsa, resign(der, tsa, edit))


def test_an_ess_v1_signing_certificate_is_accepted(tsa: Tsa, der: bytes) -> None:
    leaf = tsa.chain.certificates[0].public_bytes(Encoding.DER)
    ess = {"certs": [{"cert_hash": hashlib.sha1(leaf).digest()}]}

    def v1(attributes: list[cms.CMSAttribute]) -> list[cms.CMSAttribute]:
        rest = without("signing_certificate_v2")(attributes)
        return [*rest, cms.CMSAttribute({"type": "signing_certificate", "values": [ess]})]

    assert trusted(tsa).verify(parse_response(resign(der, tsa, v1)), MESSAGE) == GEN_TIME


def test_a_sha1_signer_digest_is_refused(tsa: Tsa, der: bytes) -> None:
    def sha1(info: cms.SignerInfo) -> None:
        info["digest_algorithm"] = {"algorithm": "sha1"}

    assert "SignerInfo digest" in refused(tsa, resign(der, tsa, signer_info=sha1))


def test_a_signer_named_by_key_identifier_verifies(tsa: Tsa, der: bytes) -> None:
    leaf = tsa.chain.certificates[0]
    key_id = leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest

    def by_key_id(value: bytes) -> Callable[[cms.SignerInfo], None]:
        def edit(info: cms.SignerInfo) -> None:
            info["sid"] = cms.SignerIdentifier(name="subject_key_identifier", value=value)
            info["version"] = "v3"

        return edit

    named = resign(der, tsa, signer_info=by_key_id(key_id))
    assert trusted(tsa).verify(parse_response(named), MESSAGE) == GEN_TIME
    other = resign(der, tsa, signer_info=by_key_id(b"\x07" * 20))
    assert "signed by another certificate" in refused(tsa, other)


def test_an_embedded_impostor_of_the_signer_is_refused(tsa: Tsa, der: bytes) -> None:
    leaf = tsa.chain.certificates[0]
    impostor_key = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)
    impostor = sign_certificate(like(leaf, impostor_key.public_key.key), impostor_key)
    response = tsp.TimeStampResp.load(der)
    data = response["time_stamp_token"]["content"]
    data["certificates"] = [cms.CertificateChoices.load(impostor.public_bytes(Encoding.DER))]
    assert "embeds certificates other than its TSA's" in refused(
        tsa, bytes(response.dump(force=True))
    )


def test_a_timestamp_before_the_tsa_certificate_is_valid_is_refused(tsa: Tsa) -> None:
    early = TimestampAuthority(tsa.signer, tsa.chain, clock=lambda: NOW - dt.timedelta(days=2))
    response = early.respond(make_request(hashlib.sha256(MESSAGE).digest())).der
    assert "is not valid at that time" in refused(tsa, response)


@pytest.mark.parametrize(
    ("usages", "critical", "reason"),
    [
        (None, False, "has no extended key usage"),
        ([TIME_STAMPING], False, "found not critical, 1.3.6.1.5.5.7.3.8$"),
        (
            [TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING],
            True,
            "found critical, 1.3.6.1.5.5.7.3.8, 1.3.6.1.5.5.7.3.3$",
        ),
    ],
)
def test_a_chain_whose_leaf_may_not_timestamp_is_refused(
    tsa: Tsa,
    der: bytes,
    usages: list[x509.ObjectIdentifier] | None,
    critical: bool,
    reason: str,
) -> None:
    leaf, root = tsa.chain.certificates
    loose = TrustedTsa([reissue(leaf, tsa, usages, critical=critical), root])
    with pytest.raises(VerificationError, match=reason) as first:
        loose.verify(parse_response(der), MESSAGE)
    with pytest.raises(VerificationError, match=reason) as second:
        loose.verify(parse_response(der), MESSAGE)
    assert first.value is not second.value, "each refusal is an error of its own"


@pytest.mark.parametrize(
    ("algorithm", "found"),
    [("sha384_ecdsa", "1.2.840.10045.4.3.3"), ("sha256_rsa", "1.2.840.113549.1.1.11")],
)
def test_a_signature_algorithm_unfit_for_the_key_or_digest_is_refused(
    tsa: Tsa, der: bytes, algorithm: str, found: str
) -> None:
    def relabel(info: cms.SignerInfo) -> None:
        info["signature_algorithm"] = {"algorithm": algorithm}

    reason = refused(tsa, resign(der, tsa, signer_info=relabel))
    assert "signature algorithm does not fit the TSA key and digest" in reason
    assert found in reason


def test_a_tsa_certificate_with_an_unknown_critical_extension_is_refused(
    tsa: Tsa, der: bytes
) -> None:
    leaf, root = tsa.chain.certificates
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00")
    builder = like(leaf, leaf.public_key())
    for extension in leaf.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    marked = sign_certificate(builder.add_extension(unknown, critical=True), tsa.root_signer)
    with pytest.raises(VerificationError, match="unknown critical extension"):
        TrustedTsa([marked, root]).verify(parse_response(der), MESSAGE)


def test_a_chain_not_signed_by_its_root_is_refused(tsa: Tsa, der: bytes) -> None:
    leaf, _ = tsa.chain.certificates
    other_root = make_tsa().chain.certificates[1]
    with pytest.raises(VerificationError, match="is not signed by"):
        TrustedTsa([leaf, other_root]).verify(parse_response(der), MESSAGE)


def test_a_chain_through_a_non_ca_is_refused(tsa: Tsa, der: bytes) -> None:
    leaf, _ = tsa.chain.certificates
    with pytest.raises(VerificationError, match="is not a CA"):
        TrustedTsa([leaf, leaf]).verify(parse_response(der), MESSAGE)


def test_a_tsa_key_lacre_cannot_verify_with_is_refused(tsa: Tsa, der: bytes) -> None:
    dsa_key = dsa.generate_private_key(2048)
    leaf = tsa.chain.certificates[0]
    unusable = sign_certificate(like(leaf, dsa_key.public_key()), tsa.root_signer)
    with pytest.raises(VerificationError, match="TSA certificate key is unusable"):
        TrustedTsa([unusable, tsa.chain.certificates[1]])


def test_an_empty_chain_is_refused() -> None:
    with pytest.raises(VerificationError, match="no certificate chain"):
        TrustedTsa([])


def test_certificates_stored_as_crls_are_refused(tsa: Tsa, der: bytes) -> None:
    # The certificates field ([0]) retagged as crls ([1]): outside the signature, so only
    # reading the CRLs catches it (rfc3161-client refuses it too).
    at = min(der.index(cert.public_bytes(Encoding.DER)) for cert in tsa.chain.certificates) - 4
    assert der[at] == 0xA0
    tampered = der[:at] + b"\xa1" + der[at + 1 :]
    assert "timestamp token CRL is malformed" in refused(tsa, tampered)
    assert not reference_accepts(tsa, tampered)


def test_a_crl_of_an_unknown_version_is_refused(tsa: Tsa) -> None:
    now = dt.datetime.now(dt.UTC)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(tsa.chain.certificates[0].subject)
        .last_update(now)
        .next_update(now + dt.timedelta(days=1))
        .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
        .public_bytes(Encoding.DER)
    )
    version = crl.index(bytes.fromhex("020101"))  # INTEGER 1: a v2 CRL
    damaged = crl[:version] + bytes.fromhex("020105") + crl[version + 3 :]
    with pytest.raises(VerificationError, match="CRL is malformed: 5 is not a valid CRL version"):
        _check_crls(damaged)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_changed_byte_of_a_response_is_refused(
    tsa: Tsa, der: bytes, data: st.DataObject
) -> None:
    # Every byte is signed, checked against the trusted chain or fixed by strict DER;
    # the one change outside all three, certificates retagged as CRLs, has its own test.
    position = data.draw(st.integers(0, len(der) - 1), label="position")
    mask = data.draw(st.integers(1, 255), label="mask")
    tampered = bytearray(der)
    tampered[position] ^= mask
    assert not lacre_accepts(tsa, bytes(tampered))


@given(data=st.binary(max_size=600), prefix=st.sampled_from([b"", b"\x30\x82", b"\x30\x81"]))
def test_random_bytes_are_refused_with_a_reason(data: bytes, prefix: bytes) -> None:
    with pytest.raises(VerificationError, match=r"TimeStampResp|not granted"):
        parse_response(prefix + data)


def lacre_accepts(tsa: Tsa, der: bytes) -> bool:
    """Whether lacre accepts ``der`` as ``tsa``'s timestamp over MESSAGE."""
    try:
        trusted(tsa).verify(parse_response(der), MESSAGE)
    except VerificationError:
        return False
    return True


def reference_accepts(tsa: Tsa, der: bytes) -> bool:
    """Whether rfc3161-client does."""
    leaf, root = tsa.chain.certificates
    verifier = rfc3161_client.VerifierBuilder(tsa_certificate=leaf, roots=[root]).build()
    try:
        verifier.verify_message(rfc3161_client.decode_timestamp_response(der), MESSAGE)
    except (ValueError, rfc3161_client.VerificationError):
        return False
    return True


def reissue(
    leaf: x509.Certificate,
    tsa: Tsa,
    usages: list[x509.ObjectIdentifier] | None,
    *,
    critical: bool,
) -> x509.Certificate:
    """``leaf`` signed again by the TSA root with these extended key usages (None: no EKU)."""
    builder = like(leaf, leaf.public_key())
    if usages is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical)
    return sign_certificate(builder, tsa.root_signer)


def like(leaf: x509.Certificate, key: CertificatePublicKeyTypes) -> x509.CertificateBuilder:
    """A certificate builder with ``leaf``'s names, serial and validity, for ``key``."""
    return (
        x509.CertificateBuilder()
        .subject_name(leaf.subject)
        .issuer_name(leaf.issuer)
        .serial_number(leaf.serial_number)
        .not_valid_before(leaf.not_valid_before_utc)
        .not_valid_after(leaf.not_valid_after_utc)
        .public_key(key)
    )


def _edited(der: bytes, edit: Callable[[cms.SignedData], None]) -> bytes:
    """``der`` with its SignedData changed by ``edit`` (nothing signed is touched)."""
    response = tsp.TimeStampResp.load(der)
    edit(response["time_stamp_token"]["content"])
    return bytes(response.dump(force=True))


def _set_version(name: str, value: str) -> Callable[[cms.SignedData], None]:
    def edit(signed: cms.SignedData) -> None:
        target = signed if name == "SignedData" else signed["signer_infos"][0]
        target["version"] = value

    return edit


def _second_signer(signed: cms.SignedData) -> None:
    signed["signer_infos"] = cms.SignerInfos([signed["signer_infos"][0]] * 2)


def _digests(names: list[str]) -> Callable[[cms.SignedData], None]:
    def edit(signed: cms.SignedData) -> None:
        signed["digest_algorithms"] = cms.DigestAlgorithms([{"algorithm": n} for n in names])

    return edit


@pytest.mark.parametrize(
    ("structure", "reason"),
    [
        (_set_version("SignedData", "v2"), "SignedData version: expected 1, 3, 4 or 5, found 2"),
        (
            _set_version("SignerInfo", "v3"),
            "SignerInfo version does not fit its signer identifier: expected 1, found 3",
        ),
        (_second_signer, "timestamp token signer count: expected exactly one SignerInfo, found 2"),
        (_digests([]), "SignedData digest algorithms do not list the signer's"),
        (_digests(["sha512"]), "SignedData digest algorithms do not list the signer's"),
        (_digests(["md5"]), "SignedData digest algorithm: expected .* found 1.2.840.113549.2.5"),
    ],
    ids=[
        "SignedData v2",
        "SignerInfo v3 by issuer and serial",
        "two signers",
        "no digest algorithms",
        "another digest algorithm",
        "md5",
    ],
)
def test_structural_refusals_name_the_field(
    der: bytes, structure: Callable[[cms.SignedData], None], reason: str
) -> None:
    with pytest.raises(VerificationError, match=reason):
        parse_response(_edited(der, structure))


def test_a_signer_digest_algorithm_with_parameters_is_refused(der: bytes) -> None:
    info = tsp.TimeStampResp.load(der)["time_stamp_token"]["content"]["signer_infos"][0]
    algorithm, encoded = info["digest_algorithm"].dump(), info.dump()
    assert algorithm.endswith(b"\x05\x00")  # sha256 with a NULL parameter
    at = der.index(encoded) + encoded.index(algorithm) + len(algorithm) - 2
    tampered = der[:at] + b"\x04\x00" + der[at + 2 :]  # an empty OCTET STRING instead
    with pytest.raises(VerificationError, match="SignerInfo digest parameters: expected absent"):
        parse_response(tampered)


def test_an_rsa_tsa_verifies_and_a_wrong_rsa_signature_is_refused(tsa: Tsa, der: bytes) -> None:
    leaf, root = tsa.chain.certificates
    key = rsa.generate_private_key(65537, 2048)
    builder = like(leaf, key.public_key())
    for extension in leaf.extensions:
        if not isinstance(extension.value, x509.SubjectKeyIdentifier):
            builder = builder.add_extension(extension.value, extension.critical)
    rsa_leaf = sign_certificate(builder, tsa.root_signer)
    ess = {"certs": [{"cert_hash": hashlib.sha256(rsa_leaf.public_bytes(Encoding.DER)).digest()}]}

    def with_signature(signature: bytes) -> bytes:
        """``der`` made by the RSA leaf: its certificate, ESS hash, algorithm and signature."""
        response = tsp.TimeStampResp.load(der)
        data = response["time_stamp_token"]["content"]
        data["certificates"] = [cms.CertificateChoices.load(rsa_leaf.public_bytes(Encoding.DER))]
        info = data["signer_infos"][0]
        attributes = replacing("signing_certificate_v2", ess)(list(info["signed_attrs"]))
        info["signed_attrs"] = cms.CMSAttributes(attributes)
        info["signature_algorithm"] = {"algorithm": "sha256_rsa"}
        info["signature"] = signature
        return bytes(response.dump(force=True))

    unsigned = tsp.TimeStampResp.load(with_signature(b"\x00"))
    attributes = unsigned["time_stamp_token"]["content"]["signer_infos"][0]["signed_attrs"]
    signed_part = attributes.untag().dump(force=True)
    good = with_signature(key.sign(signed_part, padding.PKCS1v15(), hashes.SHA256()))
    assert TrustedTsa([rsa_leaf, root]).verify(parse_response(good), MESSAGE) == GEN_TIME
    bad = with_signature(key.sign(signed_part + b"!", padding.PKCS1v15(), hashes.SHA256()))
    with pytest.raises(VerificationError, match="does not verify"):
        TrustedTsa([rsa_leaf, root]).verify(parse_response(bad), MESSAGE)
