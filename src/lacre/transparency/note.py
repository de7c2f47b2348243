r"""C2SP signed notes: text signed by one or more named keys.

A signed note is UTF-8 text ending in a newline, a blank line, and one line per
signature: ``"— <name> <base64(key hint || signature)>\n"`` (an EM DASH, U+2014).
The 4-byte key hint is the start of a 32-byte key ID derived from the key and,
for Ed25519, its name. Parsing is strict so that every note lacre accepts is
also accepted by the other Sigstore clients; in particular the note text may
contain no blank line, so the split at the last ``"\n\n"`` is unambiguous.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from cryptography.hazmat.primitives.asymmetric import ed25519

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, PublicKey
from lacre.record import field, record, replace

if TYPE_CHECKING:
    from lacre.keys import Signer

MAX_NOTE_BYTES = 1 << 20
"""The largest signed note (text and signatures) that :meth:`SignedNote.parse` accepts."""

MAX_SIGNATURES = 100
"""The most signature lines a note may carry."""

KEY_HINT_SIZE = 4
ED25519_KEY_TYPE = 0x01
SIGNATURE_PREFIX = "\u2014 "
_CONTROL_BUT_NEWLINE = "\x00-\x09\x0b-\x1f\x7f"
_CONTROL = re.compile(f"[{_CONTROL_BUT_NEWLINE}\n]")
_TEXT_FLAW = re.compile(f"^\n|\n\n|[{_CONTROL_BUT_NEWLINE}]")
"""A blank line or a control character other than a line's end: what check_text refuses."""


def b64encode(data: bytes) -> str:
    """Encode ``data`` as standard, padded base64."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    """Decode canonical standard base64, naming ``what`` in the error if it is not."""
    try:
        encoded = text.encode("ascii")
        data = binascii.a2b_base64(encoded, strict_mode=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise InvalidInput(
            f"{what} is not valid base64", expected="standard padded base64", found=repr(text[:80])
        ) from exc
    if binascii.b2a_base64(data, newline=False) != encoded:
        raise InvalidInput(
            f"{what} is not canonical base64",
            expected="standard padded base64",
            found=repr(text[:80]),
        )
    return data


def check_name(name: str, what: str = "key name") -> None:
    """Raise unless ``name`` is a valid note key name: non-empty, no whitespace, no ``+``."""
    if not name:
        raise InvalidInput(
            f"{what} is empty", expected="a non-empty name without spaces or '+'", found="''"
        )
    if name.isprintable() and " " not in name and "+" not in name:
        return  # isprintable() is false for control characters and whitespace but " "
    bad = [c for c in name if c.isspace() or c == "+" or control_character(c)]
    if bad:
        raise InvalidInput(
            f"{what} {name!r} contains a forbidden character",
            expected="no whitespace, control characters or '+'",
            found=repr(bad[0]),
        )


def control_character(line: str) -> str | None:
    """The first control character (U+0000..U+001F or DEL) in ``line``, or None."""
    found = _CONTROL.search(line)
    return None if found is None else found.group()


def check_text(text: str) -> None:
    r"""Raise unless ``text`` is valid note text: lines ending in ``\n``, none blank."""
    if not text.endswith("\n"):
        raise InvalidInput("note text does not end with a newline", found=repr(text[-20:]))
    if _TEXT_FLAW.search(text) is None:
        return
    for number, line in enumerate(text[:-1].split("\n"), start=1):
        if not line:
            raise InvalidInput(f"note text line {number} is blank; blank lines are not allowed")
        control = control_character(line)
        if control is not None:
            raise InvalidInput(
                f"note text line {number} contains a control character",
                expected="printable text",
                found=repr(control),
            )


@record
class NoteSignature:
    """One signature line: a key name, the 4-byte key hint and the signature bytes."""

    name: str
    key_hint: bytes
    signature: bytes

    def __post_init__(self) -> None:
        """Reject names and hints that cannot be written as a signature line."""
        check_name(self.name)
        if len(self.key_hint) != KEY_HINT_SIZE:
            raise InvalidInput(
                "key hint has the wrong length", expected=4, found=len(self.key_hint)
            )
        if not self.signature:
            raise InvalidInput("signature is empty", expected="at least 1 byte", found=0)

    def line(self) -> str:
        """Render the signature line, newline included."""
        return f"{SIGNATURE_PREFIX}{self.name} {b64encode(self.key_hint + self.signature)}\n"

    @classmethod
    def parse_line(cls, line: str, number: int) -> NoteSignature:
        """Parse signature line ``number`` (1-based, newline excluded)."""
        where = f"signature line {number}"
        if not line.startswith(SIGNATURE_PREFIX):
            raise InvalidInput(
                f"{where} does not start with an EM DASH and a space",
                expected="'\u2014 <name> <base64>'",
                found=repr(line[:40]),
            )
        name, sep, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not sep:
            raise InvalidInput(f"{where} has no space between name and signature")
        check_name(name, f"{where} key name")
        raw = b64decode(encoded, f"{where} signature")
        if len(raw) <= KEY_HINT_SIZE:
            raise InvalidInput(
                f"{where} signature is too short", expected=">= 5 bytes", found=len(raw)
            )
        return cls(name, raw[:KEY_HINT_SIZE], raw[KEY_HINT_SIZE:])


@record
class SignedNote:
    """A note text and its signature lines.

    ``verified`` is filled in by :func:`open_note` with the signatures that were
    checked against a known key; :meth:`parse` leaves it empty. It does not take
    part in equality.
    """

    text: str
    signatures: tuple[NoteSignature, ...]
    verified: tuple[NoteSignature, ...] = field(default=(), compare=False)

    def to_bytes(self) -> bytes:
        """Serialise the note: text, a blank line, then the signature lines."""
        body = self.text + "\n" + "".join(sig.line() for sig in self.signatures)
        return body.encode("utf-8")

    @classmethod
    def parse(cls, data: bytes) -> SignedNote:
        """Parse a signed note strictly, without checking any signature."""
        if len(data) > MAX_NOTE_BYTES:
            raise InvalidInput(
                "signed note is too large", expected=f"<= {MAX_NOTE_BYTES} bytes", found=len(data)
            )
        try:
            message = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"signed note is not valid UTF-8: {exc.reason} at {exc.start}"
            ) from exc
        split = message.rfind("\n\n")
        if split < 0:
            raise InvalidInput("signed note has no blank line between text and signatures")
        text, block = message[: split + 1], message[split + 2 :]
        check_text(text)
        return cls(text, _parse_signature_block(block))


def _parse_signature_block(block: str) -> tuple[NoteSignature, ...]:
    if not block:
        raise InvalidInput("signed note has no signature lines", expected="at least 1", found=0)
    if not block.endswith("\n"):
        raise InvalidInput("signed note does not end with a newline", found=repr(block[-20:]))
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise InvalidInput(
            "signed note has too many signatures",
            expected=f"<= {MAX_SIGNATURES}",
            found=len(lines),
        )
    return tuple(NoteSignature.parse_line(line, n) for n, line in enumerate(lines, start=1))


def note_key_id(name: str, key: PublicKey) -> bytes:
    r"""Return the 32-byte key ID of ``key`` signing notes as ``name``.

    Ed25519 keys use the C2SP ID ``SHA-256(name || "\n" || 0x01 || key)``; ECDSA keys
    use Sigstore's ``SHA-256(SPKI DER)``, which does not depend on the name.
    """
    check_name(name)
    if key.algorithm is KeyAlgorithm.ED25519:
        material = name.encode("utf-8") + b"\n" + bytes([ED25519_KEY_TYPE]) + key.raw_ed25519
        return hashlib.sha256(material).digest()
    return key.key_id


class NoteSigner:
    """Signs note text under a key name (how a log signs its checkpoints)."""

    def __init__(self, name: str, signer: Signer) -> None:
        """Sign as ``name`` with ``signer``."""
        self.name = name
        self.signer = signer
        self.key_id = note_key_id(name, signer.public_key)
        self.key_hint = self.key_id[:KEY_HINT_SIZE]

    def sign(self, text: str) -> NoteSignature:
        """Sign ``text`` (Ed25519: pure; ECDSA: over its SHA-256)."""
        check_text(text)
        return NoteSignature(self.name, self.key_hint, self.signer.sign(text.encode("utf-8")))


class NoteVerifier(Protocol):
    """Checks signature lines carrying its name and key hint."""

    @property
    def name(self) -> str:
        """The key name this verifier answers to."""
        ...

    @property
    def key_hint(self) -> bytes:
        """The 4-byte key hint this verifier answers to."""
        ...

    def verify(self, text: str, signature: NoteSignature) -> None:
        """Raise :class:`VerificationError` unless ``signature`` is valid over ``text``."""
        ...


class KeyNoteVerifier:
    """Verifies plain note signatures made with a public key (a log's key)."""

    def __init__(self, name: str, key: PublicKey) -> None:
        """Verify signatures by ``key`` under ``name``."""
        self.name = name
        self.key = key
        self.key_id = note_key_id(name, key)
        self.key_hint = self.key_id[:KEY_HINT_SIZE]

    def verify(self, text: str, signature: NoteSignature) -> None:
        """Raise :class:`VerificationError` unless ``signature`` is valid over ``text``."""
        check_signer(self, signature)
        try:
            self.key.verify(signature.signature, text.encode("utf-8"))
        except VerificationError as exc:
            raise VerificationError(
                f"note signature by {self.name!r} (key hint {self.key_hint.hex()}) "
                "does not verify over the note text"
            ) from exc


def check_signer(verifier: NoteVerifier, signature: NoteSignature) -> None:
    """Raise :class:`VerificationError` if ``signature`` names another key than ``verifier``."""
    if (signature.name, signature.key_hint) != (verifier.name, verifier.key_hint):
        raise VerificationError(
            "signature is from another key",
            expected=_label(verifier.name, verifier.key_hint),
            found=_label(signature.name, signature.key_hint),
        )


def sign_note(text: str, signers: Sequence[NoteSigner]) -> bytes:
    """Sign ``text`` with every signer, in order, and serialise the note."""
    if not signers:
        raise InvalidInput("cannot sign a note without signers", expected="at least 1", found=0)
    return SignedNote(text, tuple(s.sign(text) for s in signers)).to_bytes()


def open_note(data: bytes, verifiers: Sequence[NoteVerifier]) -> SignedNote:
    """Parse ``data`` and check its signatures against ``verifiers``.

    Every signature line whose name and key hint match a verifier must verify.
    Lines that match no verifier are ignored. At least one line must verify.
    The result carries all parsed signatures in ``signatures`` and the verified
    ones, without duplicates, in ``verified``.
    """
    note = SignedNote.parse(data)
    verified: list[NoteSignature] = []
    for sig in note.signatures:
        matching = [v for v in verifiers if v.name == sig.name and v.key_hint == sig.key_hint]
        if matching:
            _verify_with_any(note.text, sig, matching)
            if sig not in verified:
                verified.append(sig)
    if not verified:
        raise VerificationError(
            "no signature from a known key: expected one of "
            f"[{', '.join(_label(v.name, v.key_hint) for v in verifiers)}], "
            f"found [{', '.join(_label(s.name, s.key_hint) for s in note.signatures)}]"
        )
    return replace(note, verified=tuple(verified))


def _verify_with_any(text: str, sig: NoteSignature, verifiers: Sequence[NoteVerifier]) -> None:
    failures: list[VerificationError] = []
    for verifier in verifiers:
        try:
            verifier.verify(text, sig)
        except VerificationError as exc:
            failures.append(exc)
        else:
            return
    raise failures[0]


def _label(name: str, hint: bytes) -> str:
    return f"{name}+{hint.hex()}"


def format_vkey(name: str, key: PublicKey) -> str:
    """Return the C2SP verifier key string ``<name>+<hint hex>+<base64(0x01 || key)>``."""
    if key.algorithm is not KeyAlgorithm.ED25519:
        raise InvalidInput("verifier keys exist only for Ed25519", found=key.algorithm.value)
    hint = note_key_id(name, key)[:KEY_HINT_SIZE]
    return f"{name}+{hint.hex()}+{b64encode(bytes([ED25519_KEY_TYPE]) + key.raw_ed25519)}"


def split_vkey(vkey: str) -> tuple[str, bytes, int, bytes]:
    """Split a verifier key string into name, key hint, key type and key bytes."""
    parts = vkey.split("+", 2)  # the base64 key may itself contain '+'
    if len(parts) != 3:
        raise InvalidInput(
            "verifier key does not have three '+'-separated fields",
            expected="<name>+<hint>+<key>",
            found=f"{len(parts)} fields",
        )
    name, hint_hex, encoded = parts
    check_name(name, "verifier key name")
    if len(hint_hex) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hint_hex):
        raise InvalidInput(
            "verifier key hint is not 8 hex digits", expected="e.g. 'c74f20a3'", found=hint_hex
        )
    key = b64decode(encoded, "verifier key")
    if len(key) < 2:
        raise InvalidInput("verifier key is too short", expected=">= 2 bytes", found=len(key))
    return name, bytes.fromhex(hint_hex), key[0], key[1:]


def ed25519_key(raw: bytes, what: str) -> PublicKey:
    """Build a :class:`PublicKey` from 32 raw Ed25519 bytes."""
    if len(raw) != 32:
        raise InvalidInput(f"{what} has the wrong length", expected="32 bytes", found=len(raw))
    return PublicKey(ed25519.Ed25519PublicKey.from_public_bytes(raw))


def parse_vkey(vkey: str) -> KeyNoteVerifier:
    """Parse an Ed25519 (type 0x01) C2SP verifier key string into a verifier."""
    name, hint, key_type, raw = split_vkey(vkey)
    if key_type != ED25519_KEY_TYPE:
        raise InvalidInput(
            "unsupported verifier key type", expected="0x01 (Ed25519)", found=f"0x{key_type:02x}"
        )
    verifier = KeyNoteVerifier(name, ed25519_key(raw, "Ed25519 verifier key"))
    if verifier.key_hint != hint:
        raise InvalidInput(
            "verifier key hint does not match the key",
            expected=verifier.key_hint.hex(),
            found=hint.hex(),
        )
    return verifier
