"""Lazy package exports: names whose modules are costly to import load on first use."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_exports(package: str, modules: Mapping[str, tuple[str, ...]]) -> Callable[[str], object]:
    """A module `__getattr__` (PEP 562) importing each name from its module when first asked.

    `modules` maps a module to the names the package exports from it; the first access imports
    the module and caches the name on the package.
    """
    home = {name: module for module, names in modules.items() for name in names}

    def load(name: str) -> object:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return load
