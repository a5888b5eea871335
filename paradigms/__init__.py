"""Paradigm declarations and the session engine of the compliance-replication toolkit.

``paradigms.get("cialdini1975")`` returns a declared :class:`paradigms.base.Paradigm`.
Importing this package never imports PsychoPy; only ``paradigms.screens`` does.
"""
from __future__ import annotations

import importlib

from .base import DeclarationError, Paradigm

__all__ = ["get", "names", "all_paradigms", "Paradigm", "DeclarationError"]
__version__ = "0.1.0"

#: Paradigm modules, in the order ``compliance list`` shows them.
_MODULES = ("cialdini1975", "regan1971", "burger1986", "pollock1998")


def names() -> tuple[str, ...]:
    """Ids of the paradigms this toolkit ships."""
    out = []
    for m in _MODULES:
        try:
            importlib.import_module(f"{__name__}.{m}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{m}":
                continue
            raise
        out.append(m)
    return tuple(out)


def get(name: str) -> Paradigm:
    """The declared paradigm called ``name``; a one-line error if unknown."""
    if name not in names():
        raise DeclarationError(f"unknown paradigm {name!r}; known: {', '.join(names())}")
    return importlib.import_module(f"{__name__}.{name}").PARADIGM


def all_paradigms() -> tuple[Paradigm, ...]:
    return tuple(get(n) for n in names())
