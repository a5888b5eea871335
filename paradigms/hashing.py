"""The one SHA-256 of a file's bytes (issue 22): what the session store records in a sidecar at close,
and what the loader, ``verify``, ``seal`` and the report compare with it, is computed here and
nowhere else, so the four can never disagree about what "the hash of a file" is."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Union

__all__ = ["file_sha256", "bytes_sha256"]


def bytes_sha256(raw: bytes) -> str:
    """SHA-256 (hex) of bytes already read: the same value :func:`file_sha256` gives for the file.

    >>> bytes_sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    True
    """
    return hashlib.sha256(raw).hexdigest()


def file_sha256(path: Union[str, Path]) -> str:
    """SHA-256 (hex) of a file's bytes, read in blocks of 1 MiB.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f.csv"; _ = p.write_bytes(b"a,b\\n1,2\\n")
    >>> file_sha256(p) == bytes_sha256(b"a,b\\n1,2\\n")
    True
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
