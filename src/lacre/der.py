"""Strict DER: reading one element at a time with the tag the caller expects, and encoding.

Only what DER allows is read: single-byte tags, definite lengths in their
shortest form, minimal INTEGERs and ``GeneralizedTime`` in UTC (``Z``, no
trailing zeros in a fraction). Every refusal is :class:`~lacre.errors.InvalidInput`
naming the structure being read.
"""

from __future__ import annotations

import datetime as dt
import re

from lacre.errors import InvalidInput

SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OID = 0x06
BOOLEAN = 0x01
GENERALIZED_TIME = 0x18
UTF8STRING = 0x0C


def header(tag: int, length: int) -> bytes:
    """The DER identifier and definite, minimal length octets of a ``length``-byte value."""
    if length < 0x80:
        return bytes([tag, length])
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big")


def encode(tag: int, contents: bytes) -> bytes:
    """The DER element with ``tag`` and ``contents``."""
    return header(tag, len(contents)) + contents


def read_tlv(data: bytes, offset: int, what: str) -> tuple[int, int, int]:
    """Read the DER TLV at ``offset``: return (tag, content start, content end).

    Only single-byte tags and definite, minimally encoded lengths are accepted.
    """
    if offset + 2 > len(data):
        raise InvalidInput(f"{what}: truncated DER header", expected="2 bytes", found="fewer")
    tag, first = data[offset], data[offset + 1]
    if tag & 0x1F == 0x1F:
        raise InvalidInput(f"{what}: multi-byte DER tags are not supported", found=hex(tag))
    start = offset + 2
    length = first
    if first & 0x80:
        size = first & 0x7F
        raw = data[start : start + size]
        if size == 0 or size > 4 or len(raw) != size:
            raise InvalidInput(f"{what}: bad DER length", expected="definite length", found=first)
        length = int.from_bytes(raw, "big")
        if raw[0] == 0 or length < 0x80:
            raise InvalidInput(f"{what}: non-minimal DER length", found=raw.hex())
        start += size
    end = start + length
    if end > len(data):
        raise InvalidInput(
            f"{what}: truncated DER value",
            expected=f"{length} bytes",
            found=f"{len(data) - start} bytes",
        )
    return tag, start, end


def context(number: int, *, constructed: bool = True) -> int:
    """The tag byte of context-specific ``[number]``."""
    return 0x80 | (0x20 if constructed else 0) | number


class Reader:
    """Reads the elements of one DER encoding (or of one constructed element's contents)."""

    def __init__(self, data: bytes, what: str, offset: int = 0) -> None:
        """Read ``data``, which encodes ``what``, found at ``offset`` of the outermost input."""
        self.data = data
        self.what = what
        self.offset = offset
        self.position = 0

    def at_end(self) -> bool:
        """Whether every element has been read."""
        return self.position == len(self.data)

    def peek(self) -> int | None:
        """The tag of the next element, or None at the end."""
        return None if self.at_end() else self.data[self.position]

    def element(self, tag: int, name: str) -> tuple[bytes, bytes]:
        """Read the next element, which must have ``tag``: its whole encoding and its contents."""
        start = self.position
        found = self.peek()
        if found != tag:
            raise self._error(
                f"{name}: expected tag 0x{tag:02x}, found "
                + ("the end" if found is None else f"0x{found:02x}")
            )
        _, contents_start, end = read_tlv(self.data, start, f"{self.what}: {name}")
        self.position = end
        return self.data[start:end], self.data[contents_start:end]

    def any(self, name: str) -> tuple[int, bytes, bytes]:
        """Read the next element whatever its tag: the tag, its whole encoding and its contents."""
        tag = self.peek()
        if tag is None:
            raise self._error(f"{name}: expected an element, found the end")
        encoding, contents = self.element(tag, name)
        return tag, encoding, contents

    def read(self, tag: int, name: str) -> bytes:
        """The contents of the next element, which must have ``tag``."""
        return self.element(tag, name)[1]

    def optional(self, tag: int, name: str) -> bytes | None:
        """The contents of the next element if it has ``tag``, else None (nothing is read)."""
        return self.read(tag, name) if self.peek() == tag else None

    def nested(self, tag: int, name: str) -> Reader:
        """A reader over the contents of the next element, which must have ``tag``."""
        start = self.position
        contents = self.read(tag, name)
        header = self.position - start - len(contents)
        return Reader(contents, name, self.offset + start + header)

    def integer(self, name: str) -> int:
        """The next element as a minimally encoded INTEGER."""
        contents = self.read(INTEGER, name)
        if not contents:
            raise self._error(f"{name} is an empty INTEGER")
        if len(contents) > 1 and (
            (contents[0] == 0x00 and contents[1] < 0x80)
            or (contents[0] == 0xFF and contents[1] >= 0x80)
        ):
            raise self._error(f"{name} is an INTEGER with a redundant leading byte")
        return int.from_bytes(contents, "big", signed=True)

    def end(self) -> None:
        """Raise unless every element has been read."""
        if not self.at_end():
            raise self._error(f"unexpected data after the last field of {self.what}")

    def _error(self, message: str) -> InvalidInput:
        return InvalidInput(
            f"{self.what} is not valid DER: {message}",
            found=f"offset {self.offset + self.position}",
        )


def read_all(data: bytes, tag: int, what: str) -> Reader:
    """A reader over the contents of ``data``, which must be exactly one element with ``tag``."""
    outer = Reader(data, what)
    inner = outer.nested(tag, what)
    outer.end()
    return inner


def elements(contents: bytes, tag: int, what: str) -> list[tuple[bytes, bytes]]:
    """Every element of a SET OF or SEQUENCE OF, each with ``tag``: encodings and contents."""
    reader = Reader(contents, what)
    found: list[tuple[bytes, bytes]] = []
    while not reader.at_end():
        found.append(reader.element(tag, f"{what} item {len(found)}"))
    return found


def utf8_string(data: bytes, what: str) -> str:
    """The text of ``data``, which must be exactly one ``UTF8String`` holding valid UTF-8."""
    contents = read_all(data, UTF8STRING, what).data
    try:
        return contents.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{what} is not valid UTF-8", found=str(exc)) from None


def oid(dotted: str) -> bytes:
    """The DER contents of the OBJECT IDENTIFIER ``dotted`` (fields are matched by these bytes)."""
    arcs = [int(arc) for arc in dotted.split(".")]
    encoded = bytearray()
    for value in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        encoded += bytes(reversed(chunk))
    return bytes(encoded)


def dotted(contents: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER's DER contents (for messages)."""
    values, current = [], 0
    for byte in contents:
        current = (current << 7) | (byte & 0x7F)
        if not byte & 0x80:
            values.append(current)
            current = 0
    if not values:
        return "(empty)"
    first = min(values[0] // 40, 2)
    return ".".join(str(arc) for arc in [first, values[0] - 40 * first, *values[1:]])


_GENERALIZED_TIME = re.compile(rb"(\d{14})(?:\.(\d*[1-9]))?Z")


def generalized_time(contents: bytes, what: str) -> dt.datetime:
    """A DER ``GeneralizedTime`` (UTC, ``Z``, fraction without trailing zeros) as a datetime."""
    match = _GENERALIZED_TIME.fullmatch(contents)
    if match is None:
        raise InvalidInput(
            f"{what} is not a DER GeneralizedTime", expected="YYYYMMDDHHMMSS[.f]Z", found=contents
        )
    try:
        moment = dt.datetime.strptime(match.group(1).decode(), "%Y%m%d%H%M%S")
    except ValueError as exc:
        raise InvalidInput(f"{what} is not a valid time", found=contents) from exc
    fraction = match.group(2)
    micros = int((fraction.decode() + "000000")[:6]) if fraction else 0
    return moment.replace(microsecond=micros, tzinfo=dt.UTC)
