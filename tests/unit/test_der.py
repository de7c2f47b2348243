"""The strict DER reader and encoder: what they read and write, and every refusal."""

from __future__ import annotations

import datetime as dt

import pytest
from asn1crypto import core
from hypothesis import given
from hypothesis import strategies as st

from lacre import der
from lacre.der import INTEGER, OCTET_STRING, OID, SEQUENCE, Reader, context
from lacre.errors import InvalidInput


def test_a_sequence_of_fields_is_read_in_order() -> None:
    encoding = core.Sequence.load(
        bytes(core.SequenceOf(spec=core.Integer, value=[5, -1, 300]).dump())
    ).dump()
    reader = der.read_all(encoding, SEQUENCE, "numbers")
    assert [reader.integer("n") for _ in range(3)] == [5, -1, 300]
    reader.end()


def test_headers_use_the_shortest_length_form() -> None:
    for size in (0, 0x7F, 0x80, 0xFFFF, 0x1_0000):
        encoded = der.encode(OCTET_STRING, b"x" * size)
        assert encoded == bytes(core.OctetString(b"x" * size).dump())
        assert Reader(encoded, "octets").read(OCTET_STRING, "o") == b"x" * size


def test_long_form_lengths_are_read() -> None:
    payload = b"x" * 300
    encoding = bytes(core.OctetString(payload).dump())
    assert encoding[1:4] == b"\x82\x01\x2c"
    assert Reader(encoding, "octets").read(OCTET_STRING, "o") == payload


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x04\x81\x05hello", "non-minimal DER length"),
        (b"\x04\x82\x00\x05hello", "non-minimal DER length"),
        (b"\x04\x80\x00\x00", "bad DER length"),
        (b"\x04\x85\x01\x00\x00\x00\x00", "bad DER length"),
        (b"\x04\x82\x01", "bad DER length"),
        (b"\x04", "truncated DER header"),
        (b"\x04\x05abc", "truncated DER value"),
    ],
    ids=[
        "long-for-short",
        "leading-zero",
        "indefinite",
        "five-length-bytes",
        "cut",
        "none",
        "past",
    ],
)
def test_lengths_outside_der_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        Reader(data, "field").read(OCTET_STRING, "o")


def test_a_wrong_tag_names_both_tags() -> None:
    with pytest.raises(InvalidInput, match=r"expected tag 0x02, found 0x04"):
        Reader(b"\x04\x00", "field").integer("n")
    with pytest.raises(InvalidInput, match="found the end"):
        Reader(b"", "field").integer("n")


@pytest.mark.parametrize(
    "contents", [b"", b"\x00\x01", b"\xff\xff"], ids=["empty", "leading-00", "leading-ff"]
)
def test_integers_outside_der_are_refused(contents: bytes) -> None:
    with pytest.raises(InvalidInput, match="INTEGER"):
        Reader(bytes([INTEGER, len(contents)]) + contents, "field").integer("n")


@given(st.integers(min_value=-(2**200), max_value=2**200))
def test_every_integer_reads_back(value: int) -> None:
    assert Reader(bytes(core.Integer(value).dump()), "field").integer("n") == value


def test_trailing_data_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unexpected data after"):
        der.read_all(b"\x30\x00\x00", SEQUENCE, "outer")
    reader = Reader(b"\x02\x01\x01\x02\x01\x02", "pair")
    reader.integer("first")
    with pytest.raises(InvalidInput, match="unexpected data after the last field of pair"):
        reader.end()


def test_errors_give_the_offset_in_the_outermost_input() -> None:
    outer = der.read_all(b"\x30\x05\x02\x01\x01\x04\x00", SEQUENCE, "outer")
    outer.integer("n")
    with pytest.raises(InvalidInput) as caught:
        outer.integer("m")
    assert caught.value.found == "offset 5"


def test_optional_reads_only_a_matching_tag() -> None:
    reader = Reader(b"\x02\x01\x07", "field")
    assert reader.optional(OCTET_STRING, "o") is None
    assert reader.integer("n") == 7


def test_any_reads_an_element_of_any_single_byte_tag() -> None:
    assert Reader(b"\x0c\x02hi", "field").any("value") == (0x0C, b"\x0c\x02hi", b"hi")
    with pytest.raises(InvalidInput, match="multi-byte DER tags"):
        Reader(b"\x1f\x81\x01\x00", "field").any("value")


def test_elements_of_a_set_of() -> None:
    contents = b"\x30\x00\x30\x03\x02\x01\x05"
    assert der.elements(contents, SEQUENCE, "items") == [
        (b"\x30\x00", b""),
        (b"\x30\x03\x02\x01\x05", b"\x02\x01\x05"),
    ]
    with pytest.raises(InvalidInput, match="items item 1"):
        der.elements(b"\x30\x00\x02\x01\x05", SEQUENCE, "items")


def test_context_tags() -> None:
    assert context(0) == 0xA0
    assert context(1) == 0xA1
    assert context(0, constructed=False) == 0x80


@given(
    st.one_of(
        st.tuples(st.integers(0, 1), st.integers(0, 39)),
        st.tuples(st.just(2), st.integers(0, 2**70)),  # under 2, any second arc (2.999)
    ).flatmap(
        lambda head: st.tuples(
            st.just(head[0]), st.just(head[1]), st.lists(st.integers(0, 2**70), max_size=8)
        )
    )
)
def test_object_identifiers_encode_as_asn1crypto_does_and_read_back(
    arcs: tuple[int, int, list[int]],
) -> None:
    first, second, rest = arcs
    dotted = ".".join(str(arc) for arc in [first, second, *rest])
    contents = der.oid(dotted)
    assert contents == core.ObjectIdentifier(dotted).contents
    assert der.dotted(contents) == dotted
    assert Reader(bytes([OID, len(contents)]) + contents, "oid").read(OID, "o") == contents


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"20260504030201Z", dt.datetime(2026, 5, 4, 3, 2, 1, tzinfo=dt.UTC)),
        (b"20260504030201.5Z", dt.datetime(2026, 5, 4, 3, 2, 1, 500000, tzinfo=dt.UTC)),
        (b"20260504030201.123456789Z", dt.datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=dt.UTC)),
    ],
)
def test_generalized_times(text: bytes, expected: dt.datetime) -> None:
    assert der.generalized_time(text, "genTime") == expected


@pytest.mark.parametrize(
    "text",
    [
        b"20260504030201",
        b"20260504030201+0100",
        b"20260504030201.50Z",
        b"20260504030201.Z",
        b"202605040302Z",
        b"20261304030201Z",
        b"20260230030201Z",
        b"2026050403020\xffZ",
    ],
    ids=[
        "no-z",
        "offset",
        "trailing-zero",
        "empty-fraction",
        "no-seconds",
        "month-13",
        "feb-30",
        "byte",
    ],
)
def test_times_outside_der_are_refused(text: bytes) -> None:
    with pytest.raises(InvalidInput, match="genTime"):
        der.generalized_time(text, "genTime")


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=300))  # Cs: no UTF-8 form
def test_utf8_strings_read_back_as_asn1crypto_writes_them(text: str) -> None:
    encoding = bytes(core.UTF8String(text).dump())
    assert der.utf8_string(encoding, "name") == text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "expected tag 0x0c, found the end"),
        (b"\x13\x03abc", "expected tag 0x0c, found 0x13"),
        (b"\x0c\x05abc", "truncated DER value"),
        (b"\x0c\x02abc", "unexpected data after the last field"),
        (b"\x0c\x81\x03abc", "non-minimal DER length"),
        (b"\x0c\x02\xff\xfe", "is not valid UTF-8"),
        (b"\x0c\x80abc", "bad DER length"),
    ],
)
def test_utf8_strings_outside_der_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        der.utf8_string(data, "name")
