"""One module per ``compliance`` analysis command beyond ``analyze`` and ``reproduce``.

Each module defines ``register(subparsers)``, which adds its subparser and sets
``handler``; :func:`analysis.cli.add_subcommands` calls it for every name in
:data:`COMMANDS`.  A command module imports its heavy dependencies inside the
handler, so that ``compliance --help`` stays fast.
"""
from __future__ import annotations

import importlib

#: Command modules, in the order ``compliance --help`` lists them.
COMMANDS: tuple[str, ...] = ("report", "replicate", "pool", "power", "plan", "preregister", "withdraw", "verify",
                             "seal", "export")


def register_all(subparsers) -> None:
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    unescape_descriptions(subparsers)


def unescape_descriptions(subparsers) -> None:
    """A command's ``description`` printed as written: ``95%``, never ``95%%``.

    argparse %-formats an argument's ``help`` (so ``%`` is written ``%%`` there) but prints a
    parser's ``description`` as it is (it formats it only when it holds ``%(prog)``); the
    command modules write ``%%`` in both, so the descriptions are unescaped here, once.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser(prog="x").add_subparsers()
    >>> p = sub.add_parser("a", description="95%% CI")
    >>> unescape_descriptions(sub); p.description
    '95% CI'
    """
    for parser in subparsers.choices.values():
        if parser.description and "%%" in parser.description and "%(prog)" not in parser.description:
            parser.description = parser.description.replace("%%", "%")
