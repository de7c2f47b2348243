import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, generate_signer
from lacre.transparency.checkpoint import (
    Checkpoint,
    open_checkpoint,
    open_checkpoint_note,
    sign_checkpoint,
)
from lacre.transparency.cosignature import CosignatureSigner, CosignatureVerifier
from lacre.transparency.note import KeyNoteVerifier, NoteSigner, SignedNote

REKOR_V1_TEXT = (
    "rekor.sigstore.dev - 2605736670972794746\n"
    "75408393\n"
    "Fnnj13Uu1jdksPc4HZLapKX329dVlD5+MGNsiqBq1XM=\n"
)
ROOT = bytes(range(32))
ROOT_B64 = base64.b64encode(ROOT).decode()


def make_log(name: str, algorithm: KeyAlgorithm) -> tuple[NoteSigner, KeyNoteVerifier]:
    signer = NoteSigner(name, generate_signer(algorithm))
    return signer, KeyNoteVerifier(name, signer.signer.public_key)


def test_public_rekor_v1_checkpoint_parses() -> None:
    checkpoint = Checkpoint.from_text(REKOR_V1_TEXT)
    assert checkpoint.origin == "rekor.sigstore.dev - 2605736670972794746"
    assert checkpoint.size == 75408393
    assert checkpoint.root_hash.hex().startswith("1679e3d7752e")
    assert checkpoint.extensions == ()
    assert checkpoint.to_text() == REKOR_V1_TEXT


def test_extensions_round_trip() -> None:
    checkpoint = Checkpoint("log.example", 0, ROOT, ("Timestamp: 1", "other ext"))
    text = checkpoint.to_text()
    assert text == f"log.example\n0\n{ROOT_B64}\nTimestamp: 1\nother ext\n"
    assert Checkpoint.from_text(text) == checkpoint


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.ED25519, KeyAlgorithm.ECDSA_P256_SHA256])
def test_sign_open_round_trip(algorithm: KeyAlgorithm) -> None:
    signer, verifier = make_log("log.example", algorithm)
    checkpoint = Checkpoint("log.example", 12, ROOT)
    data = sign_checkpoint(checkpoint, [signer])
    assert open_checkpoint(data, [verifier]) == checkpoint
    assert open_checkpoint(data, [verifier], origin="log.example") == checkpoint


def test_rekor_v1_style_origin_differs_from_key_name() -> None:
    signer, verifier = make_log("rekor.example", KeyAlgorithm.ECDSA_P256_SHA256)
    checkpoint = Checkpoint("rekor.example - 1193050959916656506", 3, ROOT)
    data = sign_checkpoint(checkpoint, [signer])
    assert signer.key_hint == signer.signer.public_key.key_id[:4]
    assert open_checkpoint(data, [verifier], origin=checkpoint.origin) == checkpoint


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.ED25519, KeyAlgorithm.ECDSA_P256_SHA256])
def test_wrong_origin(algorithm: KeyAlgorithm) -> None:
    signer, verifier = make_log("log.example", algorithm)
    data = sign_checkpoint(Checkpoint("log.example", 1, ROOT), [signer])
    with pytest.raises(VerificationError, match="another log") as info:
        open_checkpoint(data, [verifier], origin="other.example")
    assert "'other.example'" in str(info.value)
    assert "'log.example'" in str(info.value)


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.ED25519, KeyAlgorithm.ECDSA_P256_SHA256])
def test_wrong_key(algorithm: KeyAlgorithm) -> None:
    signer, _ = make_log("log.example", algorithm)
    _, other = make_log("log.example", algorithm)
    data = sign_checkpoint(Checkpoint("log.example", 1, ROOT), [signer])
    with pytest.raises(VerificationError):
        open_checkpoint(data, [other])


def test_signed_note_with_malformed_checkpoint_text() -> None:
    signer, verifier = make_log("log.example", KeyAlgorithm.ED25519)
    data = SignedNote("log.example\n1\n", (signer.sign("log.example\n1\n"),)).to_bytes()
    with pytest.raises(InvalidInput, match="truncated"):
        open_checkpoint(data, [verifier])


def test_open_checkpoint_note_exposes_cosignatures() -> None:
    signer, verifier = make_log("log.example", KeyAlgorithm.ED25519)
    witness = CosignatureSigner("witness.example", generate_signer(KeyAlgorithm.ED25519))
    text = Checkpoint("log.example", 5, ROOT).to_text()
    note = SignedNote(text, (witness.cosign(text, 1700000000), signer.sign(text)))
    witness_verifier = CosignatureVerifier("witness.example", witness.signer.public_key)
    checkpoint, opened = open_checkpoint_note(note.to_bytes(), [verifier, witness_verifier])
    assert checkpoint.size == 5
    assert [s.name for s in opened.verified] == ["witness.example", "log.example"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("log\n1\n", "truncated"),
        ("log\n", "truncated"),
        (f"log\n1\n{ROOT_B64}", "newline"),
        (f"\n1\n{ROOT_B64}\n", "line 1 \\(origin\\) is empty"),
        (f"log\n12a\n{ROOT_B64}\n", "line 2 \\(tree size\\) is not a decimal integer.*'12a'"),
        (f"log\n\n{ROOT_B64}\n", "line 2"),
        (f"log\n-1\n{ROOT_B64}\n", "line 2"),
        (f"log\n+1\n{ROOT_B64}\n", "line 2"),
        (f"log\n 1\n{ROOT_B64}\n", "line 2"),
        (f"log\n01\n{ROOT_B64}\n", "line 2"),
        (f"log\n00\n{ROOT_B64}\n", "line 2"),
        (f"log\n\u0661\n{ROOT_B64}\n", "line 2"),
        (f"log\n{2**63}\n{ROOT_B64}\n", "out of range"),
        (f"log\n{10**30}\n{ROOT_B64}\n", "line 2"),
        ("log\n1\nAAAA\n", "line 3 \\(root hash\\) has the wrong length.*32 bytes.*3 bytes"),
        (f"log\n1\n{base64.b64encode(bytes(33)).decode()}\n", "wrong length"),
        (f"log\n1\n{ROOT_B64[:-1]}\n", "line 3.*base64"),
        ("log\n1\n" + "A" * 42 + "B=\n", "canonical"),
        (f"log\n1\n{ROOT_B64}\n\n", "line 4 \\(extension\\) is empty"),
        (f"log\n1\n{ROOT_B64}\next\n\n", "line 5"),
        (f"lo\tg\n1\n{ROOT_B64}\n", "control character"),
    ],
)
def test_malformed_checkpoint_text(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Checkpoint.from_text(text)


def test_largest_size_accepted() -> None:
    text = f"log\n{2**63 - 1}\n{ROOT_B64}\n"
    assert Checkpoint.from_text(text).size == 2**63 - 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", 1, ROOT), "origin"),
        (("a\nb", 1, ROOT), "origin"),
        (("log", -1, ROOT), "out of range"),
        (("log", 2**63, ROOT), "out of range"),
        (("log", 1, ROOT[:31]), "wrong length"),
        (("log", 1, ROOT, ("",)), "extension"),
        (("log", 1, ROOT, ("a\nb",)), "extension"),
    ],
)
def test_constructor_validation(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Checkpoint(*args)  # type: ignore[arg-type]


_SIGNER, _VERIFIER = make_log("log.example", KeyAlgorithm.ED25519)
_origin = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)


@settings(max_examples=50, deadline=None)
@given(
    origin=_origin,
    size=st.integers(0, 2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(_origin, max_size=3),
)
def test_checkpoint_round_trip_property(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.from_text(checkpoint.to_text()) == checkpoint
    data = sign_checkpoint(checkpoint, [_SIGNER])
    assert open_checkpoint(data, [_VERIFIER], origin=origin) == checkpoint


@settings(max_examples=100, deadline=None)
@given(
    size=st.integers(0, 2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    data=st.data(),
)
def test_flipped_bytes_fail(size: int, root: bytes, data: st.DataObject) -> None:
    signed = bytearray(sign_checkpoint(Checkpoint("log.example", size, root), [_SIGNER]))
    position = data.draw(st.integers(0, len(signed) - 1))
    bit = data.draw(st.sampled_from([1 << i for i in range(8)]))
    signed[position] ^= bit
    with pytest.raises(InvalidInput):
        open_checkpoint(bytes(signed), [_VERIFIER], origin="log.example")
