"""Lazy package borders (PEP 562): a package's public names load with their submodule."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, submodules: Sequence[str]) -> Callable[[str], Any]:
    """Return a module ``__getattr__`` that finds a name in the ``__all__`` of ``submodules``.

    The first access imports the submodules in order until one exports the name, and caches
    it in the package, so importing the package itself costs nothing. Raises
    ``AttributeError`` for a name no submodule exports.
    """

    def __getattr__(name: str) -> Any:
        if importlib.util.find_spec(f"{package}.{name}") is not None:
            # A submodule (``from package import submodule``): the import system loads it;
            # searching the others here could start a circle of half-loaded modules.
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace = importlib.import_module(package).__dict__
        for submodule in submodules:
            module = importlib.import_module(f"{package}.{submodule}")
            if name in getattr(module, "__all__", ()):
                namespace[name] = value = getattr(module, name)
                return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
