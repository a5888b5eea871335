"""Paradigm declarations and the session engine of the compliance-replication toolkit.

``paradigms.get("cialdini1975")`` returns a declared :class:`paradigms.base.Paradigm`.
The toolkit ships one module per study (``paradigms/cialdini1975.py`` and its
siblings); a study declared elsewhere (a lab's own, or one a test makes) joins
them with :func:`register`, and every command, the analysis included, then
finds it by its id.  Importing this package never imports PsychoPy; only
``paradigms.screens`` does.

>>> names()[:2]
('cialdini1975', 'regan1971')
>>> get("regan1971").session.setting
'lab'
"""
from __future__ import annotations

import importlib

from .base import DeclarationError, Paradigm

__all__ = ["get", "names", "all_paradigms", "register", "unregister", "Paradigm", "DeclarationError"]
__version__ = "0.1.0"

#: Paradigm modules, in the order ``compliance list`` shows them.
_MODULES = ("cialdini1975", "regan1971", "burger1986", "pollock1998", "kunz1976")

#: Studies declared outside the shipped modules, by id (see :func:`register`).
_REGISTERED: dict[str, Paradigm] = {}


def names() -> tuple[str, ...]:
    """Ids of the paradigms this toolkit knows: the shipped ones, then the registered ones."""
    out = []
    for m in _MODULES:
        try:
            importlib.import_module(f"{__name__}.{m}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{m}":
                continue
            raise
        out.append(m)
    return tuple(out) + tuple(k for k in _REGISTERED if k not in out)


def get(name: str) -> Paradigm:
    """The declared paradigm called ``name``; a one-line error if unknown."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in names():
        raise DeclarationError(f"unknown paradigm {name!r}; known: {', '.join(names())}")
    return importlib.import_module(f"{__name__}.{name}").PARADIGM


def register(paradigm: Paradigm) -> Paradigm:
    """Make a study declared outside ``paradigms/`` known by its id, as a shipped one is.

    A shipped study's id cannot be taken, nor an id registered already.
    """
    if not isinstance(paradigm, Paradigm):
        raise DeclarationError(f"register: {paradigm!r} is not a Paradigm")
    if paradigm.id in _MODULES or paradigm.id in _REGISTERED:
        raise DeclarationError(f"register: a paradigm {paradigm.id!r} is known already")
    _REGISTERED[paradigm.id] = paradigm
    return paradigm


def unregister(name: str) -> None:
    """Forget a study made known with :func:`register`."""
    if name not in _REGISTERED:
        raise DeclarationError(f"unregister: {name!r} was not registered")
    del _REGISTERED[name]


def all_paradigms() -> tuple[Paradigm, ...]:
    return tuple(get(n) for n in names())
