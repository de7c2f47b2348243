import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, generate_signer
from lacre.transparency.checkpoint import Checkpoint, open_checkpoint
from lacre.transparency.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    cosignature_key_id,
    cosignature_timestamp,
    cosigned_message,
    format_cosignature_vkey,
    parse_cosignature_vkey,
)
from lacre.transparency.note import (
    KeyNoteVerifier,
    NoteSignature,
    NoteSigner,
    SignedNote,
    open_note,
)

TEXT = Checkpoint("log.example", 10, bytes(32)).to_text()
TIME = 1_700_000_000


def make_witness(name: str = "witness.example") -> tuple[CosignatureSigner, CosignatureVerifier]:
    signer = CosignatureSigner(name, generate_signer(KeyAlgorithm.ED25519))
    return signer, CosignatureVerifier(name, signer.signer.public_key)


def test_key_id_definition() -> None:
    signer, verifier = make_witness()
    raw = signer.signer.public_key.raw_ed25519
    expected = hashlib.sha256(b"witness.example\n\x04" + raw).digest()
    assert cosignature_key_id("witness.example", signer.signer.public_key) == expected
    assert signer.key_id == verifier.key_id == expected
    assert signer.key_hint == expected[:4]


def test_message_layout() -> None:
    assert cosigned_message("a\n", 7) == b"cosignature/v1\ntime 7\na\n"


def test_cosign_layout_and_verify() -> None:
    signer, verifier = make_witness()
    sig = signer.cosign(TEXT, TIME)
    assert sig.name == "witness.example"
    assert sig.key_hint == signer.key_hint
    assert len(sig.signature) == 72
    assert sig.signature[:8] == TIME.to_bytes(8, "big")
    signer.signer.public_key.verify(sig.signature[8:], cosigned_message(TEXT, TIME))
    verifier.verify(TEXT, sig)
    assert cosignature_timestamp(sig) == TIME


def test_cosignature_in_note_round_trip() -> None:
    signer, verifier = make_witness()
    note = SignedNote(TEXT, (signer.cosign(TEXT, TIME),))
    opened = open_note(note.to_bytes(), [verifier])
    assert cosignature_timestamp(opened.verified[0]) == TIME


def test_log_and_witness_lines_together() -> None:
    log = NoteSigner("log.example", generate_signer(KeyAlgorithm.ED25519))
    log_verifier = KeyNoteVerifier("log.example", log.signer.public_key)
    witness, witness_verifier = make_witness()
    note = SignedNote(TEXT, (witness.cosign(TEXT, TIME), log.sign(TEXT))).to_bytes()
    assert open_checkpoint(note, [log_verifier]).size == 10
    assert len(open_note(note, [log_verifier, witness_verifier]).verified) == 2


def test_same_key_as_log_and_witness_has_distinct_hints() -> None:
    key = generate_signer(KeyAlgorithm.ED25519)
    log = NoteSigner("same.example", key)
    witness = CosignatureSigner("same.example", key)
    assert log.key_hint != witness.key_hint


@pytest.mark.parametrize("tamper", ["text", "timestamp", "signature"])
def test_tampering_fails(tamper: str) -> None:
    signer, verifier = make_witness()
    sig = signer.cosign(TEXT, TIME)
    text = TEXT
    if tamper == "text":
        text = TEXT.replace("10", "11")
    elif tamper == "timestamp":
        sig = NoteSignature(
            sig.name, sig.key_hint, (TIME + 1).to_bytes(8, "big") + sig.signature[8:]
        )
    else:
        sig = NoteSignature(
            sig.name, sig.key_hint, sig.signature[:-1] + bytes([sig.signature[-1] ^ 1])
        )
    with pytest.raises(VerificationError, match="does not verify"):
        verifier.verify(text, sig)
    with pytest.raises(VerificationError):
        open_note(SignedNote(text, (sig,)).to_bytes(), [verifier])


def test_wrong_witness_key_fails() -> None:
    signer, _ = make_witness()
    _, other = make_witness()
    sig = signer.cosign(TEXT, TIME)
    forged = NoteSignature(sig.name, other.key_hint, sig.signature)
    with pytest.raises(VerificationError, match="does not verify"):
        other.verify(TEXT, forged)
    with pytest.raises(VerificationError, match="another key"):
        other.verify(TEXT, sig)


@pytest.mark.parametrize("length", [0, 8, 71, 73])
def test_wrong_length(length: int) -> None:
    signer, verifier = make_witness()
    sig = NoteSignature(signer.name, signer.key_hint, b"\x00" * max(length, 1))
    with pytest.raises(VerificationError, match=r"wrong length.*72 bytes"):
        verifier.verify(TEXT, sig)
    with pytest.raises(VerificationError, match="wrong length"):
        cosignature_timestamp(sig)


def test_plain_note_signature_is_not_a_cosignature() -> None:
    key = generate_signer(KeyAlgorithm.ED25519)
    plain = NoteSigner("w.example", key).sign(TEXT)
    verifier = CosignatureVerifier("w.example", key.public_key)
    with pytest.raises(VerificationError, match="no signature from a known key"):
        open_note(SignedNote(TEXT, (plain,)).to_bytes(), [verifier])


def test_requires_ed25519() -> None:
    ecdsa = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)
    with pytest.raises(InvalidInput, match="Ed25519"):
        CosignatureSigner("w.example", ecdsa)
    with pytest.raises(InvalidInput, match="Ed25519"):
        CosignatureVerifier("w.example", ecdsa.public_key)


@pytest.mark.parametrize("timestamp", [-1, 2**64])
def test_timestamp_range(timestamp: int) -> None:
    signer, _ = make_witness()
    with pytest.raises(InvalidInput, match="timestamp is out of range"):
        signer.cosign(TEXT, timestamp)


def test_invalid_name_and_text() -> None:
    with pytest.raises(InvalidInput, match="witness name"):
        make_witness("bad name")
    signer, _ = make_witness()
    with pytest.raises(InvalidInput, match="newline"):
        signer.cosign("no newline", TIME)


def test_vkey_round_trip() -> None:
    signer, _ = make_witness()
    vkey = format_cosignature_vkey(signer.name, signer.signer.public_key)
    assert vkey.startswith(f"witness.example+{signer.key_hint.hex()}+B")
    verifier = parse_cosignature_vkey(vkey)
    verifier.verify(TEXT, signer.cosign(TEXT, TIME))


def test_vkey_wrong_type_or_hint() -> None:
    signer, _ = make_witness()
    vkey = format_cosignature_vkey(signer.name, signer.signer.public_key)
    name, hint, key = vkey.split("+", 2)
    with pytest.raises(InvalidInput, match="0x04"):
        parse_cosignature_vkey(f"{name}+{hint}+A{key[1:]}")
    with pytest.raises(InvalidInput, match="does not match"):
        parse_cosignature_vkey(f"{name}+00000000+{key}")


_WITNESS = make_witness()


@settings(max_examples=50, deadline=None)
@given(timestamp=st.integers(0, 2**64 - 1), size=st.integers(0, 2**63 - 1))
def test_round_trip_property(timestamp: int, size: int) -> None:
    signer, verifier = _WITNESS
    text = Checkpoint("log.example", size, bytes(32)).to_text()
    sig = signer.cosign(text, timestamp)
    parsed = SignedNote.parse(SignedNote(text, (sig,)).to_bytes()).signatures[0]
    verifier.verify(text, parsed)
    assert cosignature_timestamp(parsed) == timestamp
