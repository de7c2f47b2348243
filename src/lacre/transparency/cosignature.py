r"""C2SP tlog-cosignature v1: witness signatures over a checkpoint, with a time.

A cosignature is a note signature line whose signature field is
``timestamp (8 bytes, big-endian seconds) || Ed25519 signature (64 bytes)``,
the signature covering ``"cosignature/v1\ntime <timestamp>\n" + checkpoint text``.
The key ID is ``SHA-256(name || "\n" || 0x04 || public key)``.
"""

from __future__ import annotations

import hashlib

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, PublicKey, Signer
from lacre.transparency.note import (
    KEY_HINT_SIZE,
    NoteSignature,
    b64encode,
    check_name,
    check_signer,
    check_text,
    ed25519_key,
    split_vkey,
)

COSIGNATURE_KEY_TYPE = 0x04
TIMESTAMP_SIZE = 8
ED25519_SIGNATURE_SIZE = 64
COSIGNATURE_SIZE = TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE
MAX_TIMESTAMP = (1 << 64) - 1


def _require_ed25519(key: PublicKey) -> None:
    if key.algorithm is not KeyAlgorithm.ED25519:
        raise InvalidInput(
            "cosignature keys must be Ed25519", expected="PKIX_ED25519", found=key.algorithm.value
        )


def cosignature_key_id(name: str, key: PublicKey) -> bytes:
    """Return the 32-byte cosignature key ID of the Ed25519 ``key`` named ``name``."""
    check_name(name, "witness name")
    _require_ed25519(key)
    material = name.encode("utf-8") + b"\n" + bytes([COSIGNATURE_KEY_TYPE]) + key.raw_ed25519
    return hashlib.sha256(material).digest()


def cosigned_message(text: str, timestamp: int) -> bytes:
    """Return the bytes a witness signs for note ``text`` at ``timestamp``."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise InvalidInput(
            "cosignature timestamp is out of range", expected="0 <= t < 2**64", found=timestamp
        )
    return b"cosignature/v1\ntime %d\n" % timestamp + text.encode("utf-8")


def cosignature_timestamp(signature: NoteSignature) -> int:
    """Return the timestamp (seconds since the epoch) carried by a cosignature."""
    _check_size(signature)
    return int.from_bytes(signature.signature[:TIMESTAMP_SIZE], "big")


def _check_size(signature: NoteSignature) -> None:
    if len(signature.signature) != COSIGNATURE_SIZE:
        raise VerificationError(
            f"cosignature by {signature.name!r} has the wrong length",
            expected=f"{COSIGNATURE_SIZE} bytes (timestamp and Ed25519 signature)",
            found=f"{len(signature.signature)} bytes",
        )


class CosignatureSigner:
    """A witness: cosigns note text with an Ed25519 key and a timestamp."""

    def __init__(self, name: str, signer: Signer) -> None:
        """Cosign as ``name`` with the Ed25519 ``signer``."""
        self.name = name
        self.signer = signer
        self.key_id = cosignature_key_id(name, signer.public_key)
        self.key_hint = self.key_id[:KEY_HINT_SIZE]

    def cosign(self, text: str, timestamp: int) -> NoteSignature:
        """Cosign note ``text`` at ``timestamp`` (seconds since the epoch)."""
        check_text(text)
        signature = self.signer.sign(cosigned_message(text, timestamp))
        stamp = timestamp.to_bytes(TIMESTAMP_SIZE, "big")
        return NoteSignature(self.name, self.key_hint, stamp + signature)


class CosignatureVerifier:
    """Verifies a witness's cosignatures; a :class:`~lacre.transparency.note.NoteVerifier`."""

    def __init__(self, name: str, key: PublicKey) -> None:
        """Verify cosignatures by the Ed25519 ``key`` under ``name``."""
        self.name = name
        self.key = key
        self.key_id = cosignature_key_id(name, key)
        self.key_hint = self.key_id[:KEY_HINT_SIZE]

    def verify(self, text: str, signature: NoteSignature) -> None:
        """Raise :class:`VerificationError` unless ``signature`` cosigns ``text``."""
        check_signer(self, signature)
        timestamp = cosignature_timestamp(signature)
        try:
            self.key.verify(signature.signature[TIMESTAMP_SIZE:], cosigned_message(text, timestamp))
        except VerificationError as exc:
            raise VerificationError(
                f"cosignature by {self.name!r} (key hint {self.key_hint.hex()}, "
                f"time {timestamp}) does not verify over the note text"
            ) from exc


def format_cosignature_vkey(name: str, key: PublicKey) -> str:
    """Return the witness verifier key string ``<name>+<hint>+<base64(0x04 || key)>``."""
    hint = cosignature_key_id(name, key)[:KEY_HINT_SIZE]
    return f"{name}+{hint.hex()}+{b64encode(bytes([COSIGNATURE_KEY_TYPE]) + key.raw_ed25519)}"


def parse_cosignature_vkey(vkey: str) -> CosignatureVerifier:
    """Parse a witness verifier key string (type 0x04) into a verifier."""
    name, hint, key_type, raw = split_vkey(vkey)
    if key_type != COSIGNATURE_KEY_TYPE:
        raise InvalidInput(
            "unsupported witness key type",
            expected="0x04 (Ed25519 cosignature/v1)",
            found=f"0x{key_type:02x}",
        )
    verifier = CosignatureVerifier(name, ed25519_key(raw, "witness verifier key"))
    if verifier.key_hint != hint:
        raise InvalidInput(
            "witness verifier key hint does not match the key",
            expected=verifier.key_hint.hex(),
            found=hint.hex(),
        )
    return verifier
