"""Paths that may go into shared files (issue 22.8).

A report, an export or a manifest is shared: an absolute path in it (``/home/jane.doe/...``)
carries a user name, and a path with ``..`` says where the data sat on one machine.  What
those files record is the path *relative to the data folder they were made from*, prefixed
with that folder's own name (``data/site1/study-..._data.csv``); a file given on its own is
recorded by its name.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Union

__all__ = ["public_path", "public_paths", "public_argument"]

PathLike = Union[str, os.PathLike]


def _root_name(root: Path) -> str:
    name = root.resolve().name
    return name or "data"


def public_path(file: PathLike, roots: Iterable[PathLike]) -> str:
    """``file`` relative to the data folder (one of ``roots``) it was found under, with that folder's
    name in front; a file given itself (or under none of ``roots``) by its name alone.

    Examples
    --------
    >>> public_path("/home/jane/lab/data/site1/s_data.csv", ["/home/jane/lab/data"])
    'data/site1/s_data.csv'
    >>> public_path("/home/jane/lab/data/site1/s_data.csv", ["/home/jane/lab/data/site1/s_data.csv"])
    's_data.csv'
    >>> public_path("../../jane/x_data.csv", [])
    'x_data.csv'
    """
    f = Path(os.path.abspath(file))
    best = None
    for r in roots:
        root = Path(os.path.abspath(r))
        if root == f:
            return f.name
        try:
            rel = f.relative_to(root)
        except ValueError:
            continue
        if best is None or len(root.parts) > len(best[0].parts):
            best = (root, rel)
    if best is None:
        return f.name
    return (Path(_root_name(best[0])) / best[1]).as_posix()


def public_paths(files: Iterable[PathLike], roots: Iterable[PathLike]) -> dict[str, str]:
    """Each of ``files`` (as given) -> :func:`public_path`.

    Examples
    --------
    >>> public_paths(["/srv/x/data/a_data.csv"], ["/srv/x/data"])
    {'/srv/x/data/a_data.csv': 'data/a_data.csv'}
    """
    roots = list(roots)
    return {str(f): public_path(f, roots) for f in files}


def public_argument(path: PathLike) -> str:
    """A path a user typed, as a shared file may show it: kept if it is relative and stays below
    the working folder, else only its last component (an absolute path, ``~``, ``..``).

    Examples
    --------
    >>> public_argument("data/sessions"), public_argument("/home/jane/data"), public_argument("../jane/d")
    ('data/sessions', 'data', 'd')
    """
    p = Path(path)
    text = str(path)
    if p.is_absolute() or text.startswith("~") or ".." in p.parts:
        return Path(os.path.abspath(os.path.expanduser(text))).name or text
    return p.as_posix()
