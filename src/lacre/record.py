"""Value classes that cost little to define: ``@record``, a lean frozen dataclass.

Python 3.11's :func:`dataclasses.dataclass` compiles up to six functions for
every frozen class (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__``, ``__delattr__``) while its module is being imported, and a
cold ``lacre verify-blob`` imports more than thirty such classes. ``@record``
compiles ``__init__`` only, the one method that must be fast for every
instance; equality, hashing, ``repr`` and immutability come from functions
shared by every record. Type checkers read ``@record`` as a dataclass
(:pep:`681`), frozen unless ``frozen=False`` is given.

What is supported is what lacre's value classes use: positional and
keyword-only fields, defaults and default factories (:func:`field`), fields
left out of equality or ``repr``, ``__post_init__``, inheritance between
records, and ``functools.cached_property`` (instances keep a ``__dict__``).
:func:`replace` and :func:`field_names` stand in for ``dataclasses.replace``
and ``dataclasses.fields``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["FrozenRecordError", "field", "field_names", "record", "replace"]

_T = TypeVar("_T")
_MISSING: Any = object()


class FrozenRecordError(AttributeError):
    """An attempt to assign or delete a field of a frozen record."""


class _Field:
    """One field of a record: what :func:`field` says of it, then its name and kind."""

    __slots__ = ("compare", "default", "factory", "kw_only", "name", "repr")

    def __init__(
        self,
        default: Any,
        factory: Callable[[], Any] | None,
        *,
        compare: bool = True,
        shown: bool = True,
        name: str = "",
        kw_only: bool = False,
    ) -> None:
        self.default, self.factory, self.compare, self.repr = default, factory, compare, shown
        self.name, self.kw_only = name, kw_only

    @property
    def has_default(self) -> bool:
        """Whether ``__init__`` may leave the field out."""
        return self.default is not _MISSING or self.factory is not None

    def named(self, name: str, kw_only: bool) -> _Field:
        """A copy of the field as the field ``name`` of a record class."""
        return _Field(
            self.default,
            self.factory,
            compare=self.compare,
            shown=self.repr,
            name=name,
            kw_only=kw_only,
        )


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
    compare: bool = True,
    repr: bool = True,
) -> Any:
    """A field with a default (or a factory making one), optionally out of ``==`` or ``repr``."""
    if default is not _MISSING and default_factory is not None:
        raise TypeError("a field takes a default or a default_factory, not both")
    return _Field(default, default_factory, compare=compare, shown=repr)


@overload
def record(cls: type[_T], /) -> type[_T]: ...


@overload
def record(
    *, kw_only: bool = False, frozen: bool = True, eq: bool = True, repr: bool = True
) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(
    cls: type[_T] | None = None,
    /,
    *,
    kw_only: bool = False,
    frozen: bool = True,
    eq: bool = True,
    repr: bool = True,
) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """Make ``cls`` a record: ``__init__`` from its annotated fields, frozen unless asked not."""

    def build(target: type[_T]) -> type[_T]:
        return _build(target, kw_only=kw_only, frozen=frozen, eq=eq, show=repr)

    return build if cls is None else build(cls)


def field_names(cls_or_record: object) -> tuple[str, ...]:
    """The names of a record's (or record class's) fields, in ``__init__`` order."""
    fields: tuple[_Field, ...] = getattr(cls_or_record, "__record_fields__")  # noqa: B009
    return tuple(f.name for f in fields)


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of the record ``obj`` with ``changes`` to some of its fields."""
    values = {name: getattr(obj, name) for name in field_names(obj) if name not in changes}
    return type(obj)(**values, **changes)


def _build(cls: type[_T], *, kw_only: bool, frozen: bool, eq: bool, show: bool) -> type[_T]:
    _check_frozen_like_bases(cls, frozen)
    fields = {f.name: f for base in reversed(cls.__mro__[1:]) for f in _fields_of(base)}
    fields.update((f.name, f) for f in _own_fields(cls, kw_only))
    ordered = [f for f in fields.values() if not f.kw_only] + [
        f for f in fields.values() if f.kw_only
    ]
    _check_defaults(cls, ordered)
    shared = {
        "__record_frozen__": frozen,
        "__record_fields__": tuple(ordered),
        "__record_compare__": tuple(f.name for f in ordered if f.compare),
        "__record_shown__": tuple(f.name for f in ordered if f.repr),
        "__match_args__": tuple(f.name for f in ordered if not f.kw_only),
    }
    for name, value in shared.items():
        setattr(cls, name, value)
    for name, method in _methods(cls, ordered, frozen=frozen, eq=eq, show=show).items():
        if name not in cls.__dict__ or (name == "__hash__" and cls.__dict__[name] is None):
            setattr(cls, name, method)
    return cls


def _check_frozen_like_bases(cls: type, frozen: bool) -> None:
    """Refuse a frozen record over a mutable one, or the other way round."""
    for base in cls.__mro__[1:]:
        if base.__dict__.get("__record_frozen__", frozen) != frozen:
            raise TypeError(
                f"{cls.__qualname__}: a {'frozen' if frozen else 'mutable'} record cannot "
                f"inherit from the {'mutable' if frozen else 'frozen'} record {base.__qualname__}"
            )


def _check_defaults(cls: type, fields: list[_Field]) -> None:
    """Refuse a positional field without a default after one with a default."""
    defaulted = False
    for f in fields:
        if f.kw_only:
            continue
        if defaulted and not f.has_default:
            raise TypeError(
                f"{cls.__qualname__}: field {f.name!r} needs a default, as earlier ones have"
            )
        defaulted = defaulted or f.has_default


def _methods(
    cls: type, fields: list[_Field], *, frozen: bool, eq: bool, show: bool
) -> dict[str, Any]:
    """The methods a record gets, unless its class body defines them."""
    methods: dict[str, Any] = {"__init__": _compiled_on_first_use(cls, fields, frozen)}
    if show:
        methods["__repr__"] = _repr
    if eq:
        methods.update(__eq__=_eq, __hash__=_hash if frozen else None)
    if frozen:
        methods.update(__setattr__=_frozen_setattr, __delattr__=_frozen_delattr)
    return methods


def _fields_of(cls: type) -> tuple[_Field, ...]:
    fields: tuple[_Field, ...] = cls.__dict__.get("__record_fields__", ())
    return fields


def _own_fields(cls: type, kw_only: bool) -> list[_Field]:
    fields = []
    # Not inspect.get_annotations: importing inspect costs more than all records together.
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    for name, annotation in annotations.items():
        if _is_class_var(annotation):
            continue
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, _Field):
            if value.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value.default)
            fields.append(value.named(name, kw_only))
        elif isinstance(value, list | dict | set):
            raise ValueError(
                f"{cls.__qualname__}: field {name!r} has a mutable default that every "
                "instance would share; use field(default_factory=...)"
            )
        else:
            fields.append(_Field(value, None, name=name, kw_only=kw_only))
    stray = [name for name, value in vars(cls).items() if isinstance(value, _Field)]
    if stray:
        raise TypeError(f"{cls.__qualname__}: field() without an annotation: {', '.join(stray)}")
    return fields


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return text.partition("[")[0] in ("ClassVar", "typing.ClassVar")


def _compiled_on_first_use(cls: type, fields: list[_Field], frozen: bool) -> Callable[..., None]:
    """An ``__init__`` that compiles the real one, installs it on ``cls`` and calls it.

    A record that a run never instantiates never pays for the compilation.
    """

    def compile_then_init(self: Any, *args: Any, **kwargs: Any) -> None:
        compiled = _init(cls, fields, frozen)
        type.__setattr__(cls, "__init__", compiled)
        compiled(self, *args, **kwargs)

    return compile_then_init


def _init(cls: type, fields: list[_Field], frozen: bool) -> Callable[..., None]:
    """Compile ``__init__``: the one method generated per record, since it runs per instance."""
    namespace: dict[str, Any] = {"_FACTORY": _MISSING}
    params: list[str] = ["self"]
    keywords: list[str] = []
    body: list[str] = []
    for f in fields:
        default, value = "", f.name
        if f.factory is not None:
            namespace[f"_factory_{f.name}"] = f.factory
            default = "=_FACTORY"
            value = f"_factory_{f.name}() if {f.name} is _FACTORY else {f.name}"
        elif f.default is not _MISSING:
            namespace[f"_default_{f.name}"] = f.default
            default = f"=_default_{f.name}"
        (keywords if f.kw_only else params).append(f"{f.name}{default}")
        # A frozen record's fields go straight into its __dict__, past its __setattr__.
        body.append(f"_fields[{f.name!r}] = {value}" if frozen else f"self.{f.name} = {value}")
    if frozen and fields:
        body.insert(0, "_fields = self.__dict__")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    signature = ", ".join(params + (["*", *keywords] if keywords else []))
    source = f"def __init__({signature}) -> None:\n    " + "\n    ".join(body or ["pass"])
    exec(source, namespace)  # noqa: S102 - source built above from the class's own field names
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    return init


def _compared(obj: Any) -> tuple[Any, ...]:
    return tuple(getattr(obj, name) for name in obj.__record_compare__)


def _eq(self: Any, other: object) -> object:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _compared(self) == _compared(other)


def _hash(self: Any) -> int:
    return hash(_compared(self))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_shown__)
    return f"{self.__class__.__qualname__}({shown})"


def _frozen_setattr(self: Any, name: str, value: object) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")
