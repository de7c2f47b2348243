"""C2SP checkpoints: a log's signed statement of its size and root hash.

The checkpoint is the text of a signed note::

    <origin>
    <tree size, decimal>
    <root hash, base64>
    [extension lines]

Rekor v1 uses ``"<hostname> - <tree ID>"`` as origin and ``<hostname>`` as key
name; Rekor v2 uses the hostname for both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lacre.errors import InvalidInput, VerificationError
from lacre.record import record
from lacre.transparency.note import (
    NoteSigner,
    NoteVerifier,
    SignedNote,
    b64decode,
    b64encode,
    control_character,
    open_note,
    sign_note,
)

HASH_SIZE = 32
MAX_TREE_SIZE = (1 << 63) - 1
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")


@record
class Checkpoint:
    """A tree head: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Reject values that cannot be written as a valid checkpoint."""
        _check_line(self.origin, "checkpoint line 1 (origin)")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise InvalidInput(
                "checkpoint tree size is out of range",
                expected="0 <= size < 2**63",
                found=self.size,
            )
        if len(self.root_hash) != HASH_SIZE:
            raise InvalidInput(
                "checkpoint root hash has the wrong length",
                expected=f"{HASH_SIZE} bytes",
                found=f"{len(self.root_hash)} bytes",
            )
        for number, line in enumerate(self.extensions, start=4):
            _check_line(line, f"checkpoint line {number} (extension)")

    def to_text(self) -> str:
        r"""Render the checkpoint as note text (every line ends in ``\n``)."""
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text strictly."""
        if not text.endswith("\n"):
            raise InvalidInput(
                "checkpoint text does not end with a newline",
                expected="'\\n'",
                found=repr(text[-20:]),
            )
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise InvalidInput(
                "checkpoint is truncated",
                expected="at least 3 lines (origin, size, root hash)",
                found=f"{len(lines)} line(s)",
            )
        origin, size_text, root_text, *extensions = lines
        return cls(origin, _parse_size(size_text), _parse_root(root_text), tuple(extensions))


def _check_line(line: str, what: str) -> None:
    if not line:
        raise InvalidInput(f"{what} is empty", expected="a non-empty line", found="''")
    control = control_character(line)
    if control is not None:
        raise InvalidInput(
            f"{what} contains a control character", expected="printable text", found=repr(control)
        )


def _parse_size(text: str) -> int:
    if not _DECIMAL.fullmatch(text):
        raise InvalidInput(
            "checkpoint line 2 (tree size) is not a decimal integer",
            expected="digits without leading zeros",
            found=repr(text[:40]),
        )
    size = int(text)
    if size > MAX_TREE_SIZE:
        raise InvalidInput(
            "checkpoint line 2 (tree size) is out of range", expected="< 2**63", found=text
        )
    return size


def _parse_root(text: str) -> bytes:
    root = b64decode(text, "checkpoint line 3 (root hash)")
    if len(root) != HASH_SIZE:
        raise InvalidInput(
            "checkpoint line 3 (root hash) has the wrong length",
            expected=f"{HASH_SIZE} bytes",
            found=f"{len(root)} bytes",
        )
    return root


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> bytes:
    """Sign ``checkpoint`` with every signer and return the signed note."""
    return sign_note(checkpoint.to_text(), signers)


def open_checkpoint_note(
    data: bytes, verifiers: Sequence[NoteVerifier], *, origin: str | None = None
) -> tuple[Checkpoint, SignedNote]:
    """Verify and parse a signed checkpoint, also returning the opened note.

    See :func:`open_checkpoint`; the note lists the verified signatures (for
    example witness cosignatures) in ``verified``.
    """
    note = open_note(data, verifiers)
    checkpoint = Checkpoint.from_text(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(
            "checkpoint is for another log", expected=repr(origin), found=repr(checkpoint.origin)
        )
    return checkpoint, note


def open_checkpoint(
    data: bytes, verifiers: Sequence[NoteVerifier], *, origin: str | None = None
) -> Checkpoint:
    """Verify the signed checkpoint ``data`` and parse it.

    The note must carry a valid signature from at least one of ``verifiers``
    (see :func:`~lacre.transparency.note.open_note`); if ``origin`` is given the
    checkpoint's origin line must equal it.
    """
    return open_checkpoint_note(data, verifiers, origin=origin)[0]
