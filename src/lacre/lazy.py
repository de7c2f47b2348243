"""Lazy re-exports: a package names its public API without importing every module up front.

A package ``__init__`` that re-exports names from its modules would import all
of them, and everything they import, as soon as any one module of the package
is used. :func:`lazy_exports` gives it a module-level ``__getattr__`` (PEP 562)
that imports a module the first time one of its names is asked for, so that a
command pays only for the modules its path uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module


def lazy_exports(package: str, exports: Mapping[str, str]) -> LazyExports:
    """A ``__getattr__`` for ``package`` taking each name from its module in ``exports``.

    ``exports`` maps each re-exported name to the module, relative to the
    package, that defines it (``{"Verifier": "verifier"}``). A name that is also the
    name of one of the package's modules cannot be lazy: importing that module binds
    the module to it. Import such a name eagerly.
    """
    return LazyExports(package, exports)


class LazyExports:
    """A package's module-level ``__getattr__`` that imports each name's module on first use.

    The package also lists the names in ``__all__`` and imports them under
    ``TYPE_CHECKING`` for type checkers; ``exports`` is kept so that a test can hold
    the three lists to each other.
    """

    def __init__(self, package: str, exports: Mapping[str, str]) -> None:
        """Serve the names of ``exports`` (name -> module relative to ``package``)."""
        self.package = package
        self.exports = dict(exports)

    def __call__(self, name: str) -> object:
        """The attribute ``name`` of the package, imported from its module."""
        module = self.exports.get(name)
        if module is None:
            raise AttributeError(f"module {self.package!r} has no attribute {name!r}")
        return getattr(import_module(f"{self.package}.{module}"), name)
