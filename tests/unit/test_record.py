"""``lacre.record``: frozen value classes that behave as frozen dataclasses do."""

from __future__ import annotations

import dataclasses
import functools
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lacre.record import FrozenRecordError, field, field_names, record, replace


@record
class Point:
    """Two positional fields, the second with a default."""

    x: int
    y: int = 0


@record(kw_only=True)
class Message:
    """Keyword-only fields, one made by a factory and left out of == and repr."""

    text: str
    tags: tuple[str, ...] = ()
    cache: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    LIMIT: ClassVar[int] = 10


@record
class Positive:
    """A record whose __post_init__ refuses bad values."""

    value: int

    def __post_init__(self) -> None:
        """Refuse values below one."""
        if self.value < 1:
            raise ValueError(f"not positive: {self.value}")


@record
class Labelled(Positive):
    """A subclass adding a field and chaining __post_init__."""

    label: str = "n"

    def __post_init__(self) -> None:
        """Refuse an empty label, after the parent's check."""
        super().__post_init__()
        if not self.label:
            raise ValueError("empty label")


def test_fields_are_set_positionally_by_keyword_and_from_defaults() -> None:
    assert (Point(1, 2).x, Point(1, 2).y) == (1, 2)
    assert Point(y=3, x=4) == Point(4, 3)
    assert Point(5).y == 0
    assert field_names(Point) == ("x", "y")


def test_wrong_arguments_are_refused_as_by_any_function() -> None:
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(1, z=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="positional"):
        Message("hello")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'text'"):
        Message()  # type: ignore[call-arg]


def test_frozen_records_refuse_assignment_and_deletion() -> None:
    point = Point(1)
    with pytest.raises(FrozenRecordError, match="cannot assign to field 'x' of a frozen Point"):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError, match="cannot delete field 'y'"):
        del point.y
    assert point == Point(1, 0)


def test_mutable_records_take_assignment_and_are_unhashable() -> None:
    @record(frozen=False)
    class Counter:
        count: int = 0

    counter = Counter()
    counter.count += 1
    assert counter == Counter(1)
    with pytest.raises(TypeError, match="unhashable"):
        hash(counter)


def test_equality_and_hash_follow_the_compared_fields_of_the_same_class() -> None:
    first = Message(text="a", cache={"k": 1})
    second = Message(text="a")
    assert first == second
    assert hash(first) == hash(second)
    assert Message(text="a") != Message(text="b")
    assert Point(1, 2) != (1, 2)  # type: ignore[comparison-overlap]
    assert Labelled(1) != Positive(1)


def test_repr_shows_the_fields_shown() -> None:
    assert repr(Point(1, 2)) == "Point(x=1, y=2)"
    assert repr(Message(text="a", cache={"k": 1})) == "Message(text='a', tags=())"


def test_factories_make_a_fresh_default_for_each_instance() -> None:
    first, second = Message(text="a"), Message(text="b")
    first.cache["k"] = 1
    assert second.cache == {}
    assert Message(text="c", cache={"given": 2}).cache == {"given": 2}


def test_class_variables_are_not_fields() -> None:
    assert "LIMIT" not in field_names(Message)
    assert Message.LIMIT == 10


def test_post_init_runs_after_every_field_is_set_and_subclasses_chain_it() -> None:
    with pytest.raises(ValueError, match="not positive: 0"):
        Positive(0)
    with pytest.raises(ValueError, match="not positive: -1"):
        Labelled(-1, "x")
    with pytest.raises(ValueError, match="empty label"):
        Labelled(1, "")
    assert field_names(Labelled) == ("value", "label")
    assert Labelled(2, "x").label == "x"


def test_opting_out_of_eq_and_repr_keeps_identity_and_object_repr() -> None:
    @record(eq=False, repr=False)
    class Handle:
        name: str

    handle = Handle("h")
    assert handle != Handle("h")
    assert repr(handle).startswith("<")
    assert hash(handle) == object.__hash__(handle)


def test_methods_written_in_the_class_body_are_kept() -> None:
    @record
    class Loud:
        word: str

        def __repr__(self) -> str:
            return self.word.upper()

    assert repr(Loud("hi")) == "HI"


def test_a_field_without_default_after_one_with_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="field 'b' needs a default, as earlier ones have"):

        @record
        class Broken:
            a: int = 0
            b: int  # type: ignore[misc]


def test_a_field_default_given_through_field_is_the_default() -> None:
    @record
    class Note:
        text: str
        seen: tuple[str, ...] = field(default=(), compare=False)

    assert Note("a").seen == ()
    assert Note("a", ("x",)) == Note("a")
    assert Note.seen == ()


def test_a_mutable_default_is_refused_at_definition() -> None:
    with pytest.raises(ValueError, match="field 'items' has a mutable default"):

        @record
        class Basket:
            items: list[str] = []  # noqa: RUF012 - the default under test


def test_a_field_without_an_annotation_is_refused() -> None:
    with pytest.raises(TypeError, match="field\\(\\) without an annotation: extra"):

        @record
        class Loose:
            value: int
            extra = field(default=1)


def test_frozen_and_mutable_records_do_not_inherit_from_each_other() -> None:
    with pytest.raises(TypeError, match="a mutable record cannot inherit from the frozen"):

        @record(frozen=False)
        class Loosened(Point):  # type: ignore[misc]
            z: int = 0

    @record(frozen=False)
    class Counter:
        count: int = 0

    with pytest.raises(TypeError, match="a frozen record cannot inherit from the mutable"):

        @record
        class Fixed(Counter):  # type: ignore[misc]
            pass


def test_a_field_takes_a_default_or_a_factory_not_both() -> None:
    with pytest.raises(TypeError, match="a default or a default_factory, not both"):
        field(default=1, default_factory=int)


def test_replace_copies_with_changes_and_runs_post_init() -> None:
    assert replace(Point(1, 2), y=5) == Point(1, 5)
    assert replace(Labelled(1, "a"), label="b") == Labelled(1, "b")
    with pytest.raises(ValueError, match="not positive"):
        replace(Labelled(1, "a"), value=0)


def test_cached_properties_work_on_frozen_records() -> None:
    @record
    class Squared:
        value: int

        @functools.cached_property
        def square(self) -> int:
            return self.value * self.value

    squared = Squared(3)
    assert squared.square == 9
    assert vars(squared)["square"] == 9  # kept on the frozen instance, not computed again


def test_init_is_compiled_when_first_needed_then_kept() -> None:
    @record
    class Late:
        value: int

    assert Late.__init__.__name__ == "compile_then_init"
    assert Late(1).value == 1
    assert Late.__init__.__qualname__.endswith("Late.__init__")
    assert Late(2).value == 2


def test_class_patterns_match_positional_fields() -> None:
    match Point(1, 2):
        case Point(x, y):
            assert (x, y) == (1, 2)
        case _:
            pytest.fail("Point(x, y) did not match")


@dataclasses.dataclass(frozen=True)
class _Reference:
    x: int
    y: int = 0


@given(st.integers(), st.integers(), st.integers(), st.integers())
def test_records_compare_hash_and_print_as_frozen_dataclasses_do(
    x: int, y: int, other_x: int, other_y: int
) -> None:
    ours, theirs = Point(x, y), _Reference(x, y)
    assert repr(ours).removeprefix("Point") == repr(theirs).removeprefix("_Reference")
    assert (ours == Point(other_x, other_y)) == (theirs == _Reference(other_x, other_y))
    assert hash(ours) == hash(theirs)
