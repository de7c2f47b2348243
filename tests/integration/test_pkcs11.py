"""``pkcs11:`` key URIs against a real SoftHSM2 token: loading, signing, errors, the log engine."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pkcs11
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pkcs11 import Attribute, ObjectClass
from pkcs11.util.ec import encode_ec_public_key

from lacre.errors import ConfigError
from lacre.keys import KeyAlgorithm, PublicKey, Signer, load_signer
from lacre.keys.pkcs11 import Pkcs11Signer, Pkcs11Uri, ec_public_key
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.sqlite import SqliteStore
from lacre.transparency.checkpoint import open_checkpoint
from lacre.transparency.note import KeyNoteVerifier
from tests.integration import softhsm
from tests.integration.softhsm import MODULE, PIN, uri

TOKEN = "lacre-test"
PIN_TOKEN = "lacre-pin"
ORIGIN = "hsm.example.com/log"


@dataclass(frozen=True)
class Token:
    hsm: softhsm.SoftHsm
    p256: Pkcs11Signer


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Token]:
    """A SoftHSM2 store with two tokens and keys; fails (never skips) when SoftHSM2 is unusable."""
    try:
        hsm = softhsm.start_softhsm(tmp_path_factory.mktemp("softhsm"), [TOKEN, PIN_TOKEN])
        softhsm.generate_ec_key(TOKEN, "p256", b"\x01", softhsm.P256_PARAMS)
        softhsm.generate_ec_key(TOKEN, "p384", b"\x02", softhsm.P384_PARAMS)
        softhsm.generate_rsa_key(TOKEN, "rsa", b"\x03")
        softhsm.generate_ec_key(TOKEN, "dup", b"\x04", softhsm.P256_PARAMS)
        softhsm.generate_ec_key(TOKEN, "dup", b"\x05", softhsm.P256_PARAMS)
        softhsm.generate_ec_key(TOKEN, "log key/1;x", b"\x06", softhsm.P256_PARAMS)
        softhsm.generate_ec_key(PIN_TOKEN, "p256", b"\x01", softhsm.P256_PARAMS)
    except (softhsm.SoftHsmUnavailable, pkcs11.PKCS11Error, OSError) as exc:
        pytest.fail(f"SoftHSM2 cannot be used for the PKCS#11 tests: {exc!r}", pytrace=False)
    signer = Pkcs11Signer.open(uri(TOKEN, "p256"))
    yield Token(hsm, signer)
    signer.close()


def token_public_key(token_label: str, label: str) -> PublicKey:
    """The public key object read straight from the token, independently of lacre."""
    session = pkcs11.lib(MODULE).get_token(token_label=token_label).open()
    with session:
        key = session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=label)
        assert isinstance(key, pkcs11.PublicKey)
        return PublicKey.from_der(encode_ec_public_key(key))


def test_load_by_uri_signs_and_verifies(token: Token) -> None:
    signer: Signer = load_signer(uri(TOKEN, "p256"))
    assert isinstance(signer, Pkcs11Signer)
    assert signer.public_key == token_public_key(TOKEN, "p256")
    assert signer.public_key.algorithm is KeyAlgorithm.ECDSA_P256_SHA256
    for n in range(50):
        data = f"message {n}".encode() * n
        signer.public_key.verify(signer.sign(data), data)
    signer.close()


def test_p384_by_id_signs_over_sha384(token: Token) -> None:
    with Pkcs11Signer.open(uri(TOKEN, id="\x02", type="private")) as signer:
        assert signer.public_key == token_public_key(TOKEN, "p384")
        assert signer.public_key.algorithm is KeyAlgorithm.ECDSA_P384_SHA384
        signature = signer.sign(b"payload")
        signer.public_key.verify(signature, b"payload")
        digest = hashlib.sha384(b"payload").digest()
        signer.public_key.verify_digest(signature, digest, "sha384")


def test_percent_encoded_label(token: Token) -> None:
    text = uri(TOKEN, "log key/1;x")
    assert "log%20key%2F1%3Bx" in text
    with Pkcs11Signer.open(text) as signer:
        assert signer.public_key == token_public_key(TOKEN, "log key/1;x")
        signer.public_key.verify(signer.sign(b"x"), b"x")


def test_sign_from_threads(token: Token) -> None:
    signer = token.p256

    def sign_many(worker: int) -> int:
        for n in range(40):
            data = f"{worker}/{n}".encode()
            signer.public_key.verify(signer.sign(data), data)
        return worker

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(sign_many, range(8))) == list(range(8))


def test_checkpoints_signed_on_the_token_verify(token: Token, tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "log.db")
    log = TransparencyLog.open(store, name="hsm", origin=ORIGIN, signer=token.p256)
    try:
        verifier = KeyNoteVerifier(ORIGIN, token_public_key(TOKEN, "p256"))
        empty = open_checkpoint(log.reader.checkpoint(), [verifier], origin=ORIGIN)
        assert empty.size == 0
        result = log.append_many([f"entry {n}".encode() for n in range(10)])
        checkpoint = open_checkpoint(result.checkpoint, [verifier], origin=ORIGIN)
        assert checkpoint.size == 10
        assert checkpoint.root_hash == log.reader.root(10)
    finally:
        log.close()
        store.close()


def test_pin_from_source_file(token: Token, tmp_path: Path) -> None:
    pin_file = tmp_path / "pin"
    pin_file.write_text(PIN + "\n")
    query = {"module-path": MODULE, "pin-source": f"file:{pin_file}"}
    with Pkcs11Signer.open(uri(TOKEN, "p256", query=query)) as signer:
        signer.public_key.verify(signer.sign(b"x"), b"x")
    with pytest.raises(ConfigError, match="cannot read 'pin-source'"):
        query["pin-source"] = f"file:{tmp_path / 'missing'}"
        Pkcs11Signer.open(uri(TOKEN, "p256", query=query))


def test_pin_from_passphrase_callback(token: Token) -> None:
    without_pin = uri(TOKEN, "p256", query={"module-path": MODULE})
    signer = load_signer(without_pin, lambda: PIN.encode())
    signer.public_key.verify(signer.sign(b"x"), b"x")
    with pytest.raises(ConfigError, match="no PIN"):
        load_signer(without_pin)


def test_wrong_pin(token: Token) -> None:
    query = {"module-path": MODULE, "pin-value": "0000"}
    with pytest.raises(ConfigError, match=f"wrong PIN for PKCS#11 token '{PIN_TOKEN}'"):
        Pkcs11Signer.open(uri(PIN_TOKEN, "p256", query=query))
    with Pkcs11Signer.open(uri(PIN_TOKEN, "p256")) as signer:
        signer.public_key.verify(signer.sign(b"x"), b"x")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (uri("no-such-token", "p256"), "'token': 0 tokens match 'no-such-token'"),
        (uri(TOKEN, "no-such-key"), "'object': no private key token='lacre-test' object='no-such"),
        (uri(TOKEN, id="\x09"), "'object': no private key token='lacre-test' id=09"),
        (uri(TOKEN, "rsa"), "unsupported type: expected an EC key on P-256 or P-384, found RSA"),
        (uri(TOKEN, "dup"), "several private keys match"),
        (
            uri(TOKEN, "p256", query={"module-path": "/nonexistent/libpkcs11.so"}),
            "'module-path' names no file",
        ),
        (
            uri(TOKEN, "p256", query={"module-path": "/etc/hostname", "pin-value": PIN}),
            "'module-path': cannot load /etc/hostname",
        ),
    ],
    ids=["token", "object", "id", "rsa", "duplicate", "no-module", "not-a-module"],
)
def test_unusable_keys(token: Token, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_signer(text)


M = f"module-path={MODULE}&pin-value={PIN}"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("pkcs11:", "no 'token' attribute"),
        (f"pkcs11:object=p256?{M}", "no 'token' attribute"),
        (f"pkcs11:token=lacre-test?{M}", "no 'object' attribute"),
        ("pkcs11:token=lacre-test;object=p256", "no 'module-path' attribute"),
        (f"pkcs11:token=lacre-test;object=p2%G6?{M}", "'object' has a bad percent escape"),
        (f"pkcs11:token=lacre-test;object=p256%4?{M}", "'object' has a bad percent escape"),
        (f"pkcs11:token=a;token=b;object=p256?{M}", "'token' is given twice"),
        (f"pkcs11:token=lacre-test;colour=red;object=p256?{M}", "unknown .* attribute 'colour'"),
        (f"pkcs11:token=lacre-test;object=p256?{M}&module-name=softhsm2", "'module-name'"),
        (f"pkcs11:token=lacre-test;object?{M}", "malformed PKCS#11 URI path attribute"),
        (f"pkcs11:token=lacre-test;object=p256;type=public?{M}", "'type' names no private key"),
        (f"pkcs11:token=lacre test;object=p256?{M}", "must be percent-encoded"),
        (f"pkcs11:token=%FF;object=p256?{M}", "'token' is not UTF-8"),
        (f"pkcs11:token=lacre-test;object=p256?{M}&pin-source=file:/x", "both 'pin-value'"),
        (
            f"pkcs11:token=lacre-test;object=p256?module-path={MODULE}&pin-source=https://x/pin",
            "unsupported PKCS#11 URI attribute 'pin-source'",
        ),
        ("pkcs11:token=lacre-test;object=p256?&", "malformed PKCS#11 URI query attribute"),
        (f"pkcs11:token=t;object=k?module-path={MODULE}&pin-source=file:", "'pin-source'"),
    ],
)
def test_malformed_uris(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Pkcs11Uri.parse(text)


def test_parse_decodes_every_attribute() -> None:
    parsed = Pkcs11Uri.parse(
        "pkcs11:token=my%20token;object=k%2F1;id=%01%ff;type=private;serial=abc;"
        "manufacturer=SoftHSM%20project;model=SoftHSM%20v2"
        "?module-path=/usr/lib/x.so&pin-source=file:/run/pin"
    )
    assert parsed == Pkcs11Uri(
        module_path="/usr/lib/x.so",
        token="my token",
        object="k/1",
        id=b"\x01\xff",
        serial="abc",
        manufacturer="SoftHSM project",
        model="SoftHSM v2",
        pin_source="file:/run/pin",
    )
    assert "1234" not in Pkcs11Uri.parse(uri(TOKEN, "p256")).key_description


def test_token_filters_by_manufacturer(token: Token) -> None:
    with Pkcs11Signer.open(uri(TOKEN, "p256", manufacturer="SoftHSM project")) as signer:
        signer.public_key.verify(signer.sign(b"x"), b"x")
    with pytest.raises(ConfigError, match="0 tokens match"):
        load_signer(uri(TOKEN, "p256", manufacturer="Someone Else"))


def test_closed_signer_refuses_to_sign(token: Token) -> None:
    signer = Pkcs11Signer.open(uri(TOKEN, "p256"))
    signer.close()
    with pytest.raises(ConfigError, match="failed to sign"):
        signer.sign(b"x")


def test_public_key_attributes_match_the_token(token: Token) -> None:
    session = pkcs11.lib(MODULE).get_token(token_label=TOKEN).open()
    with session:
        key = session.get_key(object_class=ObjectClass.PUBLIC_KEY, label="p384")
        assert key[Attribute.EC_PARAMS] == softhsm.P384_PARAMS
        params, point = key[Attribute.EC_PARAMS], key[Attribute.EC_POINT]
    assert ec_public_key(params, point) == token_public_key(TOKEN, "p384")
    raw = ec_public_key(params, point).key.public_bytes(
        Encoding.X962, PublicFormat.UncompressedPoint
    )
    assert ec_public_key(params, raw) == token_public_key(TOKEN, "p384")  # an unwrapped point


def test_signer_refuses_other_curves() -> None:
    p521 = PublicKey(ec.generate_private_key(ec.SECP521R1()).public_key())
    with pytest.raises(ConfigError, match="PKIX_ECDSA_P521_SHA_512"):
        Pkcs11Signer(object(), object(), p521, description="k")
    with pytest.raises(ConfigError, match="unsupported curve"):
        ec_public_key(bytes.fromhex("06052b81040023"), b"\x04")
