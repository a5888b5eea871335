"""Finding the session files: one file, or every ``*_data.csv`` (and ``*_data.parquet``) under folders.

The first room of the load: which files, in which order; then ``read`` (their cells as text),
``validate`` and ``cells`` (the pooled cells against the codebooks, then typed), and
``sessions`` (the orchestration: :func:`~analysis.load.sessions.load_sessions`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

from analysis.errors import DataValidationError

__all__ = ["PathLike", "SESSION_GLOB", "PARQUET_GLOB", "find_session_files", "file_sha256", "read_hashed",
           "read_with_known_sha256", "known_sha256"]

PathLike = Union[str, Path]

#: File name pattern of session CSVs inside a folder.
SESSION_GLOB = "*_data.csv"


#: ... and of Parquet session or pooled files (``compliance export``), which the loader reads too.
PARQUET_GLOB = "*_data.parquet"


def find_session_files(path: PathLike, parquet: bool = False) -> list[Path]:
    """A session file itself, or every ``*_data.csv`` under a folder (recursively, sorted).

    With ``parquet=True`` (as :func:`load_sessions` reads), ``*_data.parquet`` files
    are found too.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for p in ("s1/a_data.csv", "s2/b_data.csv", "s2/notes.csv", "pooled_data.parquet"):
    ...     (d / p).parent.mkdir(parents=True, exist_ok=True); _ = (d / p).write_text("x")
    >>> [str(p.relative_to(d)) for p in find_session_files(d)]
    ['s1/a_data.csv', 's2/b_data.csv']
    >>> len(find_session_files(d, parquet=True))
    3

    Symbolic links to folders are followed (each real folder is read once, so a link
    back up the tree cannot loop); a folder that cannot be read, or a ``*_data.csv``
    that is not a readable file (a broken link), is refused rather than skipped.
    """
    import fnmatch
    import os

    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise DataValidationError(f"{p}: no such file or folder")

    def refuse(err: OSError):
        raise DataValidationError(f"{err.filename or p}: cannot be read ({err.strerror or err}); "
                                  "fix its permissions or leave it out") from None

    globs = (SESSION_GLOB, PARQUET_GLOB) if parquet else (SESSION_GLOB,)
    found: list[Path] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(p, onerror=refuse, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:            # reached again through a link: already read
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        for name in filenames:
            if any(fnmatch.fnmatchcase(name, g) for g in globs):
                f = Path(dirpath) / name
                if not f.is_file():
                    raise DataValidationError(f"{f}: cannot be read (a broken link, or not a regular file)")
                found.append(f)
    if not found:
        raise DataValidationError(f"{p}: no session files matching {' or '.join(globs)} in this folder")
    from paradigms.engine.store import session_sort_key

    return sorted(found, key=session_sort_key)  # session-2 before session-10 (issue 22.3)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, read a megabyte at a time.

    Examples
    --------
    >>> import tempfile, pathlib, hashlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"; _ = p.write_bytes(b"x,y\\n")
    >>> file_sha256(p) == hashlib.sha256(b"x,y\\n").hexdigest()
    True
    """
    from paradigms.hashing import file_sha256 as sha256_of_file

    return sha256_of_file(path)  # one file-hash function (paradigms.hashing)


#: The digests :func:`read_hashed` computed in this process, by the state of the file they are of:
#: (device, inode, size, mtime_ns, ctime_ns) -> SHA-256.  Only :func:`read_hashed` (the tamper-evidence
#: gate's read) adds to it; :func:`read_with_known_sha256` (the loader's) only looks.
_DIGESTS: dict = {}

#: A digest is remembered only for a file at rest: last changed (mtime and ctime) this long before it
#: was read.  File times advance by the kernel's clock tick (a few ms), so a file rewritten within one
#: tick of a read could keep its state; one at rest cannot be changed without a new, later ctime.
AT_REST_NS = 2_000_000_000


def _state(st) -> tuple:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read_hashed(path) -> tuple[bytes, str]:
    """A file's bytes and their SHA-256 (:func:`paradigms.hashing.bytes_sha256`), from one read.

    The digest is remembered with the file's state as the read found it (device, inode, size, times
    of last change to the nanosecond; only for a file at rest, see ``AT_REST_NS``), so that
    :func:`read_with_known_sha256` -- the loader, reading the same file after the tamper-evidence
    gate of ``compliance analyze`` -- need not hash it again while the file is unchanged.

    Examples
    --------
    >>> import tempfile, pathlib, hashlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a_data.csv"; _ = p.write_bytes(b"x,y\\n1,2\\n")
    >>> raw, sha = read_hashed(p)
    >>> raw == b"x,y\\n1,2\\n", sha == hashlib.sha256(raw).hexdigest()
    (True, True)
    >>> read_with_known_sha256(p)    # written just now: not at rest, so not remembered
    (b'x,y\\n1,2\\n', None)
    """
    import os
    import time

    from paradigms.hashing import bytes_sha256

    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        raw = fh.read()
        after = os.fstat(fh.fileno())
    sha = bytes_sha256(raw)
    now = time.time_ns()
    if _state(st) == _state(after) and now - max(st.st_mtime_ns, st.st_ctime_ns) > AT_REST_NS:
        _DIGESTS[_state(st)] = sha
    return raw, sha


def read_with_known_sha256(path) -> tuple[bytes, "str | None"]:
    """A file's bytes, and their SHA-256 if :func:`read_hashed` computed it for the file in the very
    state this read found (else None: the caller hashes the bytes itself if it needs to).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "b_data.csv"; _ = p.write_bytes(b"x\\n")
    >>> read_with_known_sha256(p)
    (b'x\\n', None)
    """
    import os

    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        raw = fh.read()
        after = os.fstat(fh.fileno())
    return raw, (_DIGESTS.get(_state(st)) if _state(st) == _state(after) else None)


def known_sha256(path) -> "str | None":
    """The SHA-256 :func:`read_hashed` computed for the file in its present state (None if it did
    not, or the file changed since, or cannot be read): no byte is read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c_data.csv"; _ = p.write_bytes(b"x\\n")
    >>> known_sha256(p) is None
    True
    """
    import os

    try:
        return _DIGESTS.get(_state(os.stat(path)))
    except OSError:
        return None
