import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, PublicKey, SoftwareSigner, generate_signer
from lacre.transparency.note import (
    MAX_NOTE_BYTES,
    KeyNoteVerifier,
    NoteSignature,
    NoteSigner,
    SignedNote,
    format_vkey,
    note_key_id,
    open_note,
    parse_vkey,
    sign_note,
)

EM = "\u2014"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    f"{EM} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
    "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
PETER_NOTE = (PETER_TEXT + "\n" + PETER_SIG).encode()
ALGORITHMS = [KeyAlgorithm.ED25519, KeyAlgorithm.ECDSA_P256_SHA256]


def make_signer(
    name: str = "log.example", algorithm: KeyAlgorithm = KeyAlgorithm.ED25519
) -> NoteSigner:
    return NoteSigner(name, generate_signer(algorithm))


def verifier_for(signer: NoteSigner) -> KeyNoteVerifier:
    return KeyNoteVerifier(signer.name, signer.signer.public_key)


def sig_line(name: str, raw: bytes) -> str:
    return f"{EM} {name} {base64.b64encode(raw).decode()}\n"


# --- golden vector -------------------------------------------------------------------------


def test_go_sumdb_vector_verifies() -> None:
    verifier = parse_vkey(PETER_VKEY)
    assert verifier.name == "PeterNeumann"
    assert verifier.key_hint == bytes.fromhex("c74f20a3")
    note = open_note(PETER_NOTE, [verifier])
    assert note.text == PETER_TEXT
    assert [s.name for s in note.verified] == ["PeterNeumann"]
    assert note.to_bytes() == PETER_NOTE


def test_go_sumdb_vector_vkey_round_trip() -> None:
    verifier = parse_vkey(PETER_VKEY)
    assert format_vkey(verifier.name, verifier.key) == PETER_VKEY


def test_go_sumdb_vector_tampered_text_fails() -> None:
    data = PETER_NOTE.replace(b"answer", b"Answer")
    with pytest.raises(VerificationError, match="PeterNeumann"):
        open_note(data, [parse_vkey(PETER_VKEY)])


def test_ed25519_key_id_matches_c2sp_definition() -> None:
    verifier = parse_vkey(PETER_VKEY)
    expected = hashlib.sha256(b"PeterNeumann\n\x01" + verifier.key.raw_ed25519).digest()
    assert note_key_id("PeterNeumann", verifier.key) == expected
    assert note_key_id("Other", verifier.key) != expected


def test_ecdsa_key_id_is_spki_hash_and_name_independent() -> None:
    key = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256).public_key
    assert note_key_id("a.example", key) == hashlib.sha256(key.spki_der).digest()
    assert note_key_id("b.example", key) == key.key_id


# --- round trips and verification ----------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_sign_and_open_round_trip(algorithm: KeyAlgorithm) -> None:
    signer = make_signer(algorithm=algorithm)
    data = sign_note("hello\nworld\n", [signer])
    assert data.startswith(b"hello\nworld\n\n\xe2\x80\x94 log.example ")
    note = open_note(data, [verifier_for(signer)])
    assert note.text == "hello\nworld\n"
    assert note.signatures == note.verified
    assert note.signatures[0].key_hint == signer.key_id[:4]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_modified_text_fails(algorithm: KeyAlgorithm) -> None:
    signer = make_signer(algorithm=algorithm)
    data = sign_note("hello\n", [signer]).replace(b"hello", b"hellO")
    with pytest.raises(VerificationError, match="does not verify"):
        open_note(data, [verifier_for(signer)])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_wrong_key_with_same_name_and_hint_fails(algorithm: KeyAlgorithm) -> None:
    signer = make_signer(algorithm=algorithm)
    other = make_signer(algorithm=algorithm)
    forged = NoteSignature(signer.name, signer.key_hint, other.sign("hi\n").signature)
    data = SignedNote("hi\n", (forged,)).to_bytes()
    with pytest.raises(VerificationError):
        open_note(data, [verifier_for(signer)])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_unrelated_key_is_not_known(algorithm: KeyAlgorithm) -> None:
    data = sign_note("hi\n", [make_signer(algorithm=algorithm)])
    other = make_signer(algorithm=algorithm)
    with pytest.raises(VerificationError, match="no signature from a known key") as info:
        open_note(data, [verifier_for(other)])
    assert other.key_hint.hex() in str(info.value)


def test_unknown_signatures_are_ignored_and_log_line_in_any_position() -> None:
    log = make_signer("log.example")
    strangers = [make_signer(f"w{i}.example") for i in range(3)]
    for position in range(4):
        signers = list(strangers)
        signers.insert(position, log)
        note = open_note(sign_note("t\n", signers), [verifier_for(log)])
        assert len(note.signatures) == 4
        assert note.verified == (note.signatures[position],)


def test_unknown_line_with_garbage_signature_is_ignored() -> None:
    log = make_signer()
    data = sign_note("t\n", [log]) + sig_line("someone", b"\x00" * 70).encode()
    assert len(open_note(data, [verifier_for(log)]).verified) == 1


def test_bad_line_from_known_key_fails_even_if_another_verifies() -> None:
    log = make_signer()
    bad = NoteSignature(log.name, log.key_hint, b"\x01" * 64)
    data = SignedNote("t\n", (log.sign("t\n"), bad)).to_bytes()
    with pytest.raises(VerificationError):
        open_note(data, [verifier_for(log)])


def test_duplicate_valid_signature_listed_once() -> None:
    log = make_signer()
    sig = log.sign("t\n")
    note = open_note(SignedNote("t\n", (sig, sig)).to_bytes(), [verifier_for(log)])
    assert note.verified == (sig,)


def test_name_mismatch_is_unknown() -> None:
    log = make_signer("a.example")
    data = sign_note("t\n", [log])
    verifier = KeyNoteVerifier("b.example", log.signer.public_key)
    with pytest.raises(VerificationError, match="no signature from a known key"):
        open_note(data, [verifier])


def test_verifier_rejects_signature_for_another_key() -> None:
    log, other = make_signer("a.example"), make_signer("b.example")
    with pytest.raises(VerificationError, match="another key"):
        verifier_for(log).verify("t\n", other.sign("t\n"))


def test_sign_note_requires_signers_and_valid_text() -> None:
    with pytest.raises(InvalidInput, match="without signers"):
        sign_note("t\n", [])
    with pytest.raises(InvalidInput, match="newline"):
        sign_note("t", [make_signer()])
    with pytest.raises(InvalidInput, match="blank"):
        sign_note("a\n\nb\n", [make_signer()])


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\x01"])
def test_bad_signer_names(name: str) -> None:
    with pytest.raises(InvalidInput):
        make_signer(name)


# --- strict parsing ------------------------------------------------------------------------

VALID_SIG = sig_line("log", b"\x01\x02\x03\x04\x05")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello\n", "no blank line"),
        (b"", "no blank line"),
        (b"hello\n\n", "no signature lines"),
        (("hello\n\n" + VALID_SIG[:-1]).encode(), "does not end with a newline"),
        (("hello\n\nx\n\n" + VALID_SIG).encode(), "line 2 is blank"),
        (("\n\n" + VALID_SIG).encode(), "line 1 is blank"),
        (("a\n\nb\n\n" + VALID_SIG).encode(), "blank"),
        (("hel\x01lo\n\n" + VALID_SIG).encode(), "control character"),
        (("hello\r\n\n" + VALID_SIG).encode(), "control character"),
        (b"h\xffllo\n\n" + VALID_SIG.encode(), "UTF-8"),
        (b"hello\n\n- log AQIDBAU=\n", "EM DASH"),
        (("hello\n\n" + EM + "log AQIDBAU=\n").encode(), "EM DASH"),
        (("hello\n\n" + EM + " logAQIDBAU=\n").encode(), "no space"),
        (("hello\n\n" + EM + "  AQIDBAU=\n").encode(), "empty"),
        (("hello\n\n" + EM + " a+b AQIDBAU=\n").encode(), "forbidden character"),
        (("hello\n\n" + EM + " log AQIDBA==\n").encode(), "too short"),
        (("hello\n\n" + EM + " log AQIDBAU\n").encode(), "base64"),
        (("hello\n\n" + EM + " log AQID!AU=\n").encode(), "base64"),
        (("hello\n\n" + EM + " log AQIDBAU= \n").encode(), "base64"),
        (("hello\n\n" + EM + " log AQIDBAV=\n").encode(), "canonical"),
        (("hello\n\n" + EM + " log \n").encode(), "too short"),
        (("hello\n\n" + VALID_SIG + "\n").encode(), "blank"),
    ],
)
def test_malformed_notes(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        SignedNote.parse(data)


def test_too_many_signatures() -> None:
    assert len(SignedNote.parse(("t\n\n" + VALID_SIG * 100).encode()).signatures) == 100
    with pytest.raises(InvalidInput, match="too many signatures"):
        SignedNote.parse(("t\n\n" + VALID_SIG * 101).encode())


def test_oversized_note() -> None:
    tail = b"\n\n" + VALID_SIG.encode()
    fits = b"x" * (MAX_NOTE_BYTES - len(tail)) + tail
    assert len(fits) == MAX_NOTE_BYTES
    assert SignedNote.parse(fits).text.endswith("x\n")
    with pytest.raises(InvalidInput, match="too large"):
        SignedNote.parse(b"x" + fits)


def test_parse_splits_at_last_blank_line_and_keeps_unicode() -> None:
    note = SignedNote.parse(("caf\u00e9 \u2603\n\n" + VALID_SIG).encode())
    assert note.text == "caf\u00e9 \u2603\n"
    assert note.signatures == (NoteSignature("log", b"\x01\x02\x03\x04", b"\x05"),)


def test_note_signature_validation() -> None:
    with pytest.raises(InvalidInput, match="key hint"):
        NoteSignature("log", b"\x01\x02\x03", b"sig")
    with pytest.raises(InvalidInput, match="empty"):
        NoteSignature("log", b"\x01\x02\x03\x04", b"")


# --- verifier keys -------------------------------------------------------------------------


def test_vkey_round_trip_with_generated_key() -> None:
    signer = make_signer("witness.example")
    vkey = format_vkey(signer.name, signer.signer.public_key)
    verifier = parse_vkey(vkey)
    assert verifier.key_hint == signer.key_hint
    open_note(sign_note("x\n", [signer]), [verifier])


@settings(max_examples=50, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32))
def test_vkey_round_trip_property(seed: bytes) -> None:
    signer = NoteSigner("w.example", SoftwareSigner(Ed25519PrivateKey.from_private_bytes(seed)))
    verifier = parse_vkey(format_vkey(signer.name, signer.signer.public_key))
    assert verifier.key_id == signer.key_id


def ed25519_from_seed(byte: int) -> PublicKey:
    return SoftwareSigner(Ed25519PrivateKey.from_private_bytes(bytes([byte]) * 32)).public_key


def test_vkey_with_plus_in_base64() -> None:
    vkeys = (format_vkey("w", ed25519_from_seed(i)) for i in range(256))
    vkey = next(v for v in vkeys if v.count("+") > 2)
    verifier = parse_vkey(vkey)
    assert format_vkey("w", verifier.key) == vkey


def test_vkey_accepts_uppercase_hint() -> None:
    assert parse_vkey(PETER_VKEY.replace("c74f20a3", "C74F20A3")).name == "PeterNeumann"


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        ("PeterNeumann+c74f20a3", "three"),
        (PETER_VKEY + "+x", "base64"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "empty"),
        (PETER_VKEY.replace("c74f20a3", "c74f20a"), "8 hex"),
        (PETER_VKEY.replace("c74f20a3", "c74f20g3"), "8 hex"),
        (PETER_VKEY.replace("c74f20a3", "c74f20a4"), "does not match"),
        (PETER_VKEY.replace("PeterNeumann", "PeterNeuman"), "does not match"),
        (PETER_VKEY.replace("ARpc", "Apc"), "base64"),
        (PETER_VKEY.replace("+ARpc", "+AhpcA"), "base64"),
        ("PeterNeumann+c74f20a3+AQ==", "too short"),
        ("PeterNeumann+c74f20a3+AQID", "wrong length"),
        ("PeterNeumann+c74f20a3+BBpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "0x04"),
    ],
)
def test_bad_vkeys(vkey: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_vkey(vkey)


def test_format_vkey_rejects_ecdsa() -> None:
    key = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256).public_key
    with pytest.raises(InvalidInput, match="only for Ed25519"):
        format_vkey("log", key)


# --- properties ----------------------------------------------------------------------------

_line = st.text(
    st.characters(min_codepoint=0x20, blacklist_characters="\x7f", codec="utf-8"),
    min_size=1,
    max_size=30,
)
_SIGNER = make_signer()


@settings(max_examples=50, deadline=None)
@given(st.lists(_line, min_size=1, max_size=5))
def test_round_trip_property(lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    data = sign_note(text, [_SIGNER])
    assert SignedNote.parse(data).to_bytes() == data
    assert open_note(data, [verifier_for(_SIGNER)]).text == text


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_any_flipped_text_byte_fails(data: st.DataObject) -> None:
    note = sign_note("origin\n42\nsome text\n", [_SIGNER])
    position = data.draw(st.integers(0, len("origin\n42\nsome text") - 1))
    bit = data.draw(st.sampled_from([0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40]))
    flipped = bytearray(note)
    flipped[position] ^= bit
    with pytest.raises(InvalidInput):
        open_note(bytes(flipped), [verifier_for(_SIGNER)])
