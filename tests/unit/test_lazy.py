"""The lazily exporting packages: their __all__, lazy map and type-checking imports agree."""

from __future__ import annotations

import ast
import inspect
from importlib import import_module
from types import ModuleType

import pytest

from lacre.lazy import LazyExports, lazy_exports

PACKAGES = ["lacre.keys", "lacre.sign", "lacre.trust", "lacre.verify"]


def _type_checking_imports(package: ModuleType) -> dict[str, str]:
    """Each name imported under ``if TYPE_CHECKING:`` -> its module, relative to the package."""
    found = {}
    for node in ast.walk(ast.parse(inspect.getsource(package))):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom) and statement.module is not None
                for alias in statement.names:
                    found[alias.name] = statement.module.removeprefix(f"{package.__name__}.")
    return found


@pytest.mark.parametrize("name", PACKAGES)
def test_the_three_lists_of_a_package_agree(name: str) -> None:
    package = import_module(name)
    getter = package.__getattr__
    assert isinstance(getter, LazyExports)
    eager = {exported for exported in package.__all__ if exported in vars(package)}
    assert sorted(getter.exports) == sorted(set(package.__all__) - eager)
    assert _type_checking_imports(package) == getter.exports


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_is_the_object_its_module_defines(name: str) -> None:
    package = import_module(name)
    getter = package.__getattr__
    assert isinstance(getter, LazyExports)
    for exported, module in getter.exports.items():
        assert getattr(package, exported) is getattr(import_module(f"{name}.{module}"), exported)


def test_an_unknown_name_is_an_attribute_error() -> None:
    getter = lazy_exports("lacre.verify", {"Verifier": "verifier"})
    with pytest.raises(AttributeError, match=r"module 'lacre\.verify' has no attribute 'Nope'"):
        getter("Nope")
