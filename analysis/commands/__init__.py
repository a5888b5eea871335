"""One module per ``compliance`` analysis command beyond ``analyze`` and ``reproduce``.

Each module defines ``register(subparsers)``, which adds its subparser and sets
``handler``; :func:`analysis.cli.add_subcommands` calls it for every name in
:data:`COMMANDS`.  A command module imports its heavy dependencies inside the
handler, so that ``compliance --help`` stays fast.
"""
from __future__ import annotations

import importlib

#: Command modules, in the order ``compliance --help`` lists them.
COMMANDS: tuple[str, ...] = ("report", "replicate", "pool", "power", "withdraw", "verify", "seal", "export")


def register_all(subparsers) -> None:
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
