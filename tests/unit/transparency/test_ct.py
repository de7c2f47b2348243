import base64
import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.certificate_transparency import LogEntryType
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from hypothesis import given, settings
from hypothesis import strategies as st
from sigstore._internal.sct import verify_sct as sigstore_verify_sct
from sigstore._internal.trust import CTKeyring, Keyring
from sigstore.errors import VerificationError as SigstoreVerificationError
from sigstore_models.common import v1 as common_v1

from lacre.der import header as der_header
from lacre.errors import InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, PublicKey, generate_signer
from lacre.keys.signer import SoftwareSigner
from lacre.record import replace
from lacre.transparency import ct as ct_module
from lacre.transparency.ct import (
    SCT_LIST_OID,
    PrecertEntry,
    SignedCertificateTimestamp,
    TimestampedEntry,
    X509Entry,
    log_id,
    parse_timestamped_entry_leaf,
    precert_signed_data,
    sign_sct,
    signed_data,
    timestamped_entry_leaf,
    verify_sct,
    x509_signed_data,
)
from lacre.transparency.ct_precert import (
    parse_sct_list,
    precert_tbs,
    sct_list_extension_value,
    strip_poison,
)

TS = 1_700_000_000_123
LOG = generate_signer()
ISSUER_HASH = bytes(range(32))
TBS = b"\x30\x03\x02\x01\x05"


def sample_sct(**changes: object) -> SignedCertificateTimestamp:
    fields: dict[str, object] = {
        "log_id": b"\x11" * 32,
        "timestamp": TS,
        "signature": b"\x30\x06\x02\x01\x01\x02\x01\x02",
        "extensions": b"",
    }
    fields.update(changes)
    return SignedCertificateTimestamp(**fields)  # type: ignore[arg-type]


# --- SCT encoding ---------------------------------------------------------------------------


def test_sct_layout() -> None:
    sct = sample_sct(extensions=b"\xaa\xbb")
    encoded = sct.encode()
    assert encoded[0] == 0
    assert encoded[1:33] == b"\x11" * 32
    assert encoded[33:41] == TS.to_bytes(8, "big")
    assert encoded[41:45] == b"\x00\x02\xaa\xbb"
    assert encoded[45:47] == b"\x04\x03"
    assert encoded[47:49] == len(sct.signature).to_bytes(2, "big")
    assert encoded[49:] == sct.signature
    assert SignedCertificateTimestamp.decode(encoded) == sct


def test_sct_json_round_trip() -> None:
    sct = sample_sct(extensions=b"\x00\x01")
    document = sct.to_json()
    assert document["sct_version"] == 0
    assert document["id"] == "ERERERERERERERERERERERERERERERERERERERERERE="
    assert document["timestamp"] == TS
    assert document["extensions"] == "AAE="
    assert SignedCertificateTimestamp.from_json(document) == sct


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sct_version": 1}, "sct_version"),
        ({"sct_version": True}, "sct_version"),
        ({"timestamp": "1"}, "timestamp"),
        ({"id": "AAAA"}, "log_id"),
        ({"id": 5}, "id"),
        ({"extensions": "%%"}, "base64"),
        ({"signature": "BAMAAAA="}, "trailing"),
        ({"signature": "BAM="}, "truncated signature length"),
    ],
)
def test_sct_from_json_rejects(change: dict[str, object], message: str) -> None:
    document = sample_sct().to_json()
    document.update(change)
    with pytest.raises(InvalidInput, match=message):
        SignedCertificateTimestamp.from_json(document)


def test_sct_from_json_rejects_missing_and_non_objects() -> None:
    document = sample_sct().to_json()
    del document["signature"]
    with pytest.raises(InvalidInput, match="missing"):
        SignedCertificateTimestamp.from_json(document)
    with pytest.raises(InvalidInput, match="object"):
        SignedCertificateTimestamp.from_json([])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "truncated sct_version"),
        (b"\x01" + bytes(60), "unsupported sct_version: expected 0, found 1"),
        (b"\x00" + bytes(20), "truncated log_id"),
        (b"\x00" + bytes(32) + bytes(8) + b"\x00\x05ab", "truncated extensions"),
        (b"\x00" + bytes(32) + bytes(8) + b"\x00\x00\x04", "truncated sig_alg"),
        (b"\x00" + bytes(32) + bytes(8) + b"\x00\x00\x04\x03\x00\x09x", "truncated signature"),
    ],
)
def test_sct_decode_rejects(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        SignedCertificateTimestamp.decode(data)


def test_sct_decode_rejects_trailing_bytes() -> None:
    with pytest.raises(InvalidInput, match="trailing"):
        SignedCertificateTimestamp.decode(sample_sct().encode() + b"\x00")


@pytest.mark.parametrize(
    "change",
    [
        {"version": 1},
        {"log_id": b"\x00" * 31},
        {"timestamp": -1},
        {"timestamp": 1 << 64},
        {"hash_alg": 256},
        {"sig_alg": -1},
        {"extensions": bytes(1 << 16)},
        {"signature": bytes(1 << 16)},
    ],
)
def test_sct_constructor_rejects(change: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        sample_sct(**change)


sct_strategy = st.builds(
    SignedCertificateTimestamp,
    log_id=st.binary(min_size=32, max_size=32),
    timestamp=st.integers(0, (1 << 64) - 1),
    signature=st.binary(max_size=300),
    extensions=st.binary(max_size=300),
    hash_alg=st.integers(0, 255),
    sig_alg=st.integers(0, 255),
)


@given(sct_strategy)
def test_sct_encode_decode_property(sct: SignedCertificateTimestamp) -> None:
    assert SignedCertificateTimestamp.decode(sct.encode()) == sct
    assert SignedCertificateTimestamp.from_json(sct.to_json()) == sct


@given(sct_strategy, st.data())
def test_the_sct_shortcut_reads_what_the_field_by_field_reader_reads(
    sct: SignedCertificateTimestamp, data: st.DataObject
) -> None:
    encoded = bytearray(sct.encode())
    if data.draw(st.booleans()):  # a changed byte, or bytes cut off or added
        at = data.draw(st.integers(0, len(encoded) - 1))
        encoded[at] = data.draw(st.integers(0, 255))
    encoded = encoded[: data.draw(st.integers(0, len(encoded)))] + data.draw(st.binary(max_size=3))
    shortcut = ct_module._well_formed_sct(bytes(encoded))
    try:
        read = ct_module._read_sct(bytes(encoded))
    except InvalidInput:
        assert shortcut is None
    else:
        assert shortcut == read


@given(st.binary(max_size=120))
def test_sct_decode_never_crashes(data: bytes) -> None:
    try:
        sct = SignedCertificateTimestamp.decode(data)
    except InvalidInput:
        return
    assert sct.encode() == data


# --- signed data and leaves -----------------------------------------------------------------


def test_precert_signed_data_layout() -> None:
    data = precert_signed_data(TS, ISSUER_HASH, TBS, b"\x01")
    expected = (
        b"\x00\x00"
        + TS.to_bytes(8, "big")
        + b"\x00\x01"
        + ISSUER_HASH
        + b"\x00\x00\x05"
        + TBS
        + b"\x00\x01\x01"
    )
    assert data == expected


def test_x509_signed_data_layout() -> None:
    data = x509_signed_data(TS, b"CERT")
    assert data == b"\x00\x00" + TS.to_bytes(8, "big") + b"\x00\x00\x00\x00\x04CERT\x00\x00"


@pytest.mark.parametrize(
    "call",
    [
        lambda: precert_signed_data(TS, bytes(31), TBS),
        lambda: precert_signed_data(TS, ISSUER_HASH, b""),
        lambda: precert_signed_data(TS, ISSUER_HASH, bytes(1 << 24)),
        lambda: precert_signed_data(-1, ISSUER_HASH, TBS),
        lambda: x509_signed_data(TS, b""),
        lambda: x509_signed_data(TS, b"x", bytes(1 << 16)),
    ],
)
def test_signed_data_rejects(call: object) -> None:
    with pytest.raises(InvalidInput):
        call()  # type: ignore[operator]


def test_leaf_layout_and_round_trip() -> None:
    entry = PrecertEntry(ISSUER_HASH, TBS)
    leaf = timestamped_entry_leaf(TS, entry, b"\x09")
    assert leaf[:2] == b"\x00\x00"
    assert leaf == signed_data(entry, timestamp=TS, extensions=b"\x09")
    assert parse_timestamped_entry_leaf(leaf) == TimestampedEntry(TS, entry, b"\x09")
    x509_leaf = timestamped_entry_leaf(TS, X509Entry(b"DER"))
    assert parse_timestamped_entry_leaf(x509_leaf) == TimestampedEntry(TS, X509Entry(b"DER"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x00", "version"),
        (b"\x00\x01", "leaf_type"),
        (b"\x00\x00" + bytes(8) + b"\x00\x02", "entry_type"),
        (b"\x00\x00" + bytes(8) + b"\x00\x00\x00\x00\x00", "certificate is too short"),
        (b"\x00\x00" + bytes(8) + b"\x00\x01" + bytes(10), "truncated issuer_key_hash"),
        (b"\x00\x00" + bytes(8) + b"\x00\x00\x00\x00\x01x\x00\x00\x00", "trailing"),
    ],
)
def test_leaf_parse_rejects(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_timestamped_entry_leaf(data)


# --- signing and verification ---------------------------------------------------------------


def test_log_id_is_sha256_of_spki() -> None:
    key = LOG.public_key
    assert log_id(key) == hashlib.sha256(key.spki_der).digest()


def test_sign_and_verify_ecdsa() -> None:
    entry = PrecertEntry(ISSUER_HASH, TBS)
    sct = sign_sct(LOG, entry, timestamp=TS, extensions=b"\x00\x00\x05\x00\x00\x00\x00\x07")
    assert (sct.hash_alg, sct.sig_alg, sct.log_id) == (4, 3, log_id(LOG.public_key))
    verify_sct(sct, LOG.public_key, entry)
    data = precert_signed_data(TS, ISSUER_HASH, TBS, sct.extensions)
    LOG.public_key.verify(sct.signature, data)
    with pytest.raises(VerificationError):
        verify_sct(sct, LOG.public_key, PrecertEntry(ISSUER_HASH, TBS + b"\x00"))
    with pytest.raises(VerificationError, match="another log"):
        verify_sct(sct, generate_signer().public_key, entry)


class RsaSigner:
    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public = PublicKey(self.private.public_key())

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric import padding

        return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())


def test_sign_and_verify_rsa() -> None:
    signer = RsaSigner()
    entry = X509Entry(b"cert")
    sct = sign_sct(signer, entry, timestamp=TS)
    assert (sct.hash_alg, sct.sig_alg) == (4, 1)
    verify_sct(sct, signer.public_key, entry)


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.ED25519, KeyAlgorithm.ECDSA_P384_SHA384])
def test_sign_refuses_other_keys(algorithm: KeyAlgorithm) -> None:
    with pytest.raises(InvalidInput, match="ECDSA P-256"):
        sign_sct(generate_signer(algorithm), X509Entry(b"c"), timestamp=TS)


def test_verify_refuses_wrong_algorithms() -> None:
    entry = X509Entry(b"c")
    sct = sign_sct(LOG, entry, timestamp=TS)
    with pytest.raises(VerificationError, match="hash algorithm"):
        verify_sct(replace(sct, hash_alg=5), LOG.public_key, entry)
    with pytest.raises(VerificationError, match="signature algorithm: expected 3, found 1"):
        verify_sct(replace(sct, sig_alg=1), LOG.public_key, entry)
    other = generate_signer(KeyAlgorithm.ED25519)
    foreign = replace(sct, log_id=log_id(other.public_key))
    with pytest.raises(VerificationError, match="ECDSA P-256"):
        verify_sct(foreign, other.public_key, entry)


def test_verify_names_the_sct_on_bad_signature() -> None:
    entry = X509Entry(b"c")
    sct = sign_sct(LOG, entry, timestamp=TS)
    with pytest.raises(VerificationError, match="SCT from " + sct.log_id.hex()[:16]):
        verify_sct(replace(sct, timestamp=TS + 1), LOG.public_key, entry)


SIGNED_ENTRY = PrecertEntry(ISSUER_HASH, TBS)
SIGNED_SCT = sign_sct(LOG, SIGNED_ENTRY, timestamp=TS, extensions=b"\x01\x02")


@settings(max_examples=150)
@given(st.data())
def test_any_flipped_byte_fails_verification(data: st.DataObject) -> None:
    encoded = bytearray(SIGNED_SCT.encode())
    index = data.draw(st.integers(0, len(encoded) - 1))
    encoded[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(InvalidInput):
        verify_sct(SignedCertificateTimestamp.decode(bytes(encoded)), LOG.public_key, SIGNED_ENTRY)


# --- SCT list extension ---------------------------------------------------------------------


def test_sct_list_round_trip_and_layout() -> None:
    scts = [sample_sct(), sample_sct(timestamp=1, extensions=b"x")]
    value = sct_list_extension_value(scts)
    inner = b"".join(len(s.encode()).to_bytes(2, "big") + s.encode() for s in scts)
    tls = len(inner).to_bytes(2, "big") + inner
    assert value == b"\x04" + bytes([len(tls)]) + tls
    assert parse_sct_list(value) == scts


def test_sct_list_long_form_length() -> None:
    scts = [sample_sct(signature=bytes(300))]
    value = sct_list_extension_value(scts)
    assert value[:2] == b"\x04\x82"
    assert parse_sct_list(value) == scts


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"\x30\x02\x00\x00", "unexpected DER tag"),
        (b"\x04\x02\x00\x00", "sct_list is too short"),
        (b"\x04\x81\x02\x00\x00", "non-minimal"),
        (b"\x04\x80\x00\x00", "bad DER length"),
        (b"\x04\x05\x00\x00", "truncated DER value"),
        (b"\x04\x02\x00\x00\x00", "trailing"),
        (b"\x04\x04\x00\x02\x00\x00", "SCT is too short"),
        (b"\x04\x05\x00\x02\x00\x00\x00", "trailing"),
    ],
)
def test_parse_sct_list_rejects(value: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_sct_list(value)


def test_empty_sct_list_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        sct_list_extension_value([])


@given(st.lists(sct_strategy, min_size=1, max_size=4))
def test_sct_list_property(scts: list[SignedCertificateTimestamp]) -> None:
    assert parse_sct_list(sct_list_extension_value(scts)) == scts


# --- precertificates ------------------------------------------------------------------------

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lacre test CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


CA_KEY, CA_CERT = make_ca()


def leaf_builder(*, extensions: bool = True) -> x509.CertificateBuilder:
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(CA_CERT.subject)
        .public_key(leaf_key.public_key())
        .serial_number(0x1234_5678_9ABC_DEF0_1234)
        .not_valid_before(NOW)
        .not_valid_after(NOW + datetime.timedelta(minutes=10))
    )
    if extensions:
        builder = (
            builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
            )
            .add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name("a" * 200 + "@example.com")]),
                critical=True,
            )
            .add_extension(
                x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.1"), b"https://x"),
                critical=False,
            )
        )
    return builder


@pytest.mark.parametrize("extensions", [True, False])
def test_strip_poison_matches_certificate_built_without_poison(extensions: bool) -> None:
    builder = leaf_builder(extensions=extensions)
    precert = builder.add_extension(x509.PrecertPoison(), critical=True).sign(
        CA_KEY, hashes.SHA256()
    )
    plain = builder.sign(CA_KEY, hashes.SHA256())
    assert strip_poison(precert.tbs_certificate_bytes) == plain.tbs_certificate_bytes
    assert precert_tbs(precert) == plain.tbs_certificate_bytes


def test_strip_poison_refuses_non_critical_poison() -> None:
    builder = leaf_builder().add_extension(x509.PrecertPoison(), critical=False)
    with pytest.raises(InvalidInput, match="not critical"):
        strip_poison(builder.sign(CA_KEY, hashes.SHA256()).tbs_certificate_bytes)


def test_strip_poison_refuses_final_certificates() -> None:
    plain = leaf_builder().sign(CA_KEY, hashes.SHA256())
    with pytest.raises(InvalidInput, match="exactly one poison extension: expected 1, found 0"):
        precert_tbs(plain)


def test_strip_poison_anywhere_in_the_list() -> None:
    plain = leaf_builder(extensions=False)
    with_first = plain.add_extension(x509.PrecertPoison(), critical=True).add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    )
    expected = plain.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    stripped = strip_poison(with_first.sign(CA_KEY, hashes.SHA256()).tbs_certificate_bytes)
    assert stripped == expected.sign(CA_KEY, hashes.SHA256()).tbs_certificate_bytes


def der(tag: int, content: bytes) -> bytes:
    assert len(content) < 128
    return bytes([tag, len(content)]) + content


POISON_OID = bytes.fromhex("060a2b06010401d679020403")
POISON = der(0x30, POISON_OID + bytes.fromhex("0101ff04020500"))


def tbs_with(extensions: list[bytes], prefix: bytes = bytes.fromhex("020101")) -> bytes:
    return der(0x30, prefix + der(0xA3, der(0x30, b"".join(extensions))))


def test_strip_poison_minimal() -> None:
    other = der(0x30, bytes.fromhex("0603551d13 0101ff 04023000".replace(" ", "")))
    assert strip_poison(tbs_with([other, POISON])) == tbs_with([other])
    assert strip_poison(tbs_with([POISON])) == bytes.fromhex("3003020101")


@pytest.mark.parametrize(
    ("tbs", "message"),
    [
        (b"", "truncated DER header"),
        (bytes.fromhex("3003020101"), "no extensions"),
        (bytes.fromhex("3103020101"), "unexpected DER tag"),
        (bytes.fromhex("3003020101") + b"\x00", "trailing"),
        (bytes.fromhex("3004020101"), "truncated DER value"),
        (bytes.fromhex("30050201"), "truncated DER value"),
        (tbs_with([]), "exactly one poison"),
        (tbs_with([POISON, POISON]), "exactly one poison"),
        (tbs_with([der(0x30, POISON_OID + bytes.fromhex("04020500"))]), "not critical"),
        (tbs_with([der(0x30, POISON_OID + bytes.fromhex("010100 04020500"))]), "not critical"),
        (tbs_with([der(0x30, POISON_OID + bytes.fromhex("0101ff 040105"))]), "malformed"),
        (tbs_with([der(0x30, POISON_OID + bytes.fromhex("0101ff 0403050000"))]), "malformed"),
        (tbs_with([der(0x31, POISON_OID)]), "unexpected DER tag"),
        (tbs_with([POISON + b"\x30"]), "truncated DER header"),
        (der(0x30, der(0xA3, der(0x30, POISON) + b"\x00")), "trailing"),
        (der(0x30, der(0xA3, der(0x31, POISON))), "unexpected DER tag"),
        (tbs_with([POISON], prefix=b"\xa3\x00"), "more than one extensions field"),
        (tbs_with([POISON], prefix=b"\x1f\x00"), "multi-byte"),
        (tbs_with([der(0x30, der(0x04, b"")), POISON]), "does not start with an OID"),
        (b"\x30\x85\x00\x00\x00\x00\x01\x00", "bad DER length"),
    ],
)
def test_strip_poison_rejects(tbs: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        strip_poison(tbs)


def long_der(tag: int, content: bytes) -> bytes:
    return der_header(tag, len(content)) + content


extension_strategy = st.builds(
    lambda arc, critical, value: long_der(
        0x30,
        long_der(0x06, bytes([0x2B, 6, 1, 4, 1, 0x81, arc]))
        + (b"\x01\x01\xff" if critical else b"")
        + long_der(0x04, value),
    ),
    st.integers(0, 127),
    st.booleans(),
    st.binary(max_size=300),
)


@given(st.lists(extension_strategy, max_size=5), st.data(), st.binary(max_size=200))
def test_strip_poison_property(extensions: list[bytes], data: st.DataObject, head: bytes) -> None:
    index = data.draw(st.integers(0, len(extensions)))
    with_poison = [*extensions[:index], POISON, *extensions[index:]]
    prefix = long_der(0x04, head)
    stripped = strip_poison(
        long_der(0x30, prefix + long_der(0xA3, long_der(0x30, b"".join(with_poison))))
    )
    wrapper = long_der(0xA3, long_der(0x30, b"".join(extensions))) if extensions else b""
    assert stripped == long_der(0x30, prefix + wrapper)


def test_der_header_lengths() -> None:
    assert der_header(0x04, 0x7F) == b"\x04\x7f"
    assert der_header(0x04, 0x80) == b"\x04\x81\x80"
    assert der_header(0x04, 0x1_0000) == b"\x04\x83\x01\x00\x00"


def test_poison_extension_must_be_last_field() -> None:
    body = bytes.fromhex("020101") + b"\xa3" + bytes([len(POISON) + 2]) + b"\x30"
    body += bytes([len(POISON)]) + POISON + bytes.fromhex("020101")
    with pytest.raises(InvalidInput, match="no extensions"):
        strip_poison(b"\x30" + bytes([len(body)]) + body)


def ct_keyring(key: PublicKey) -> CTKeyring:
    public = common_v1.PublicKey(
        raw_bytes=base64.b64encode(key.spki_der),
        key_details=common_v1.PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
        valid_for=common_v1.TimeRange(start=NOW - datetime.timedelta(days=1)),
    )
    return CTKeyring(Keyring([public]))


def issue_with_embedded_sct(
    log: SoftwareSigner, *, tamper: bool = False
) -> tuple[x509.Certificate, SignedCertificateTimestamp]:
    builder = leaf_builder()
    precert = builder.add_extension(x509.PrecertPoison(), critical=True).sign(
        CA_KEY, hashes.SHA256()
    )
    issuer_hash = hashlib.sha256(
        CA_CERT.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).digest()
    tbs = precert_tbs(precert) + (b"\x00" if tamper else b"")
    sct = sign_sct(log, PrecertEntry(issuer_hash, tbs), timestamp=TS)
    extension = x509.UnrecognizedExtension(
        ObjectIdentifier(SCT_LIST_OID), sct_list_extension_value([sct])
    )
    final = builder.add_extension(extension, critical=False).sign(CA_KEY, hashes.SHA256())
    return final, sct


def test_embedded_sct_verifies_with_sigstore_python() -> None:
    final, sct = issue_with_embedded_sct(LOG)
    sigstore_verify_sct(final, [CA_CERT], ct_keyring(LOG.public_key))
    issuer_hash = log_id(PublicKey.wrap(CA_CERT.public_key()))
    verify_sct(sct, LOG.public_key, PrecertEntry(issuer_hash, final.tbs_precertificate_bytes))

    parsed = final.extensions.get_extension_for_class(
        x509.PrecertificateSignedCertificateTimestamps
    )
    assert not parsed.critical
    (embedded,) = parsed.value
    assert embedded.log_id == log_id(LOG.public_key)
    assert embedded.entry_type == LogEntryType.PRE_CERTIFICATE
    assert embedded.timestamp == datetime.datetime.fromtimestamp(TS / 1000, datetime.UTC).replace(
        tzinfo=None
    )
    assert embedded.extension_bytes == b""
    assert embedded.signature == sct.signature
    ext = final.extensions.get_extension_for_oid(ObjectIdentifier(SCT_LIST_OID))
    assert parse_sct_list(ext.value.public_bytes()) == [sct]


def test_sigstore_python_rejects_sct_over_other_tbs() -> None:
    final, _ = issue_with_embedded_sct(LOG, tamper=True)
    with pytest.raises(SigstoreVerificationError):
        sigstore_verify_sct(final, [CA_CERT], ct_keyring(LOG.public_key))
    good, _ = issue_with_embedded_sct(LOG)
    with pytest.raises(SigstoreVerificationError):
        sigstore_verify_sct(good, [CA_CERT], ct_keyring(generate_signer().public_key))
