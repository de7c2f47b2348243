"""Lazy re-exports: a package names its public API without importing every module up front.

A package ``__init__`` that re-exports names from its modules would import all
of them, and everything they import, as soon as any one module of the package
is used. :func:`lazy_exports` gives it a module-level ``__getattr__`` (PEP 562)
that imports a module the first time one of its names is asked for, so that a
command pays only for the modules its path uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """A ``__getattr__`` for ``package`` taking each name from its module in ``exports``.

    ``exports`` maps each re-exported name to the module, relative to the
    package, that defines it (``{"Verifier": "verifier"}``). A name that is also the
    name of one of the package's modules cannot be lazy: importing that module binds
    the module to it. Import such a name eagerly.
    """

    def get(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{module}"), name)

    return get
