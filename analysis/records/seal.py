"""``seal``: the hashes of every file of a data folder in one small manifest kept off the device.

The record chain in a folder (:mod:`analysis.records.audit`) catches a file changed, relabelled or
deleted by someone who does not rewrite the chain too; an informed forger who rewrites the whole
folder (every file, every hash, the whole log) leaves nothing inside it to catch.  The answer is a
record outside it: :func:`seal` writes one line per file, ``SHA-256  relative/path`` (the format of
``sha256sum``, so ``sha256sum -c`` reads it too), to a manifest that the lab e-mails, commits to a
repository or prints; ``compliance verify DATA --manifest M`` checks the folder against it: a file
added, removed or changed since the seal is a discrepancy.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from analysis.errors import AnalysisError

__all__ = ["seal", "read_manifest", "check_manifest", "folder_files"]

_LINE = re.compile(r"^([0-9a-f]{64})  (.+)$")
_HEADER = "# compliance seal: SHA-256 of every file of a data folder; check with: compliance verify DATA --manifest THIS"


def folder_files(root, skip=()) -> list[Path]:
    """Every regular file under ``root`` (recursively, links followed once), relative to it, in order;
    hidden files (temporary files, editors' back-ups) and ``skip`` are left out.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "s1").mkdir()
    >>> for n in ("s1/a_data.csv", "s1/.a.tmp", "b.json"): _ = (d / n).write_text("x")
    >>> [p.as_posix() for p in folder_files(d)]
    ['b.json', 's1/a_data.csv']
    """
    from paradigms.engine.store import session_sort_key

    root = Path(root)
    skip = {Path(os.path.abspath(s)) for s in skip}
    out, seen = [], set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            p = Path(dirpath) / name
            if name.startswith(".") or not p.is_file() or Path(os.path.abspath(p)) in skip:
                continue
            out.append(p.relative_to(root))
    return sorted(out, key=session_sort_key)


def seal(data_dir, out, force: bool = False, now: Optional[str] = None) -> dict:
    """Write the manifest of ``data_dir`` to ``out``; returns ``{"out", "files", "sha256"}`` (the last
    is the manifest's own hash: a short line to note down or read out over the phone).

    Raises
    ------
    AnalysisError
        ``data_dir`` is not a folder; ``out`` exists (without ``force``, or is not a manifest).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a_data.csv").write_text("x\\n1\\n")
    >>> m = d.parent / (d.name + ".seal")
    >>> seal(d, m, now="2026-01-05T10:00:00+00:00")["files"]
    1
    >>> check_manifest(d, m)
    []
    >>> _ = (d / "a_data.csv").write_text("x\\n2\\n")
    >>> [line.split(": ", 1)[1][:40] for line in check_manifest(d, m)]
    ['SHA-256 differs from the manifest (chang']
    """
    from paradigms.hashing import bytes_sha256, file_sha256
    from paradigms.engine.store import write_text_atomic

    data_dir, out = Path(data_dir), Path(out)
    if not data_dir.is_dir():
        raise AnalysisError(f"{data_dir}: not a data folder")
    if str(out) == "" or out.is_dir():
        raise AnalysisError(f"--out {str(out)!r}: give a file name for the manifest, e.g. data.seal")
    if out.exists() or out.is_symlink():
        if not force:
            raise AnalysisError(f"--out {out}: already exists (use --force to replace an earlier manifest)")
        if not _is_manifest(out):
            raise AnalysisError(f"--out {out}: exists and is not a manifest 'compliance seal' wrote; --force "
                                "replaces only an earlier manifest (nothing written)")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise AnalysisError(f"--out {out}: the folder {out.parent} does not exist")
    files = folder_files(data_dir, skip=[out])
    if not files:
        raise AnalysisError(f"{data_dir}: no files to seal")
    lines = [_HEADER, f"# folder: {data_dir.resolve().name}; sealed {now or datetime.now(timezone.utc).isoformat(timespec='seconds')}; "
             f"{len(files)} files"]
    lines += [f"{file_sha256(data_dir / f)}  {f.as_posix()}" for f in files]
    text = "\n".join(lines) + "\n"
    try:
        write_text_atomic(out, text)
    except OSError as exc:
        raise AnalysisError(f"--out {out}: cannot be written ({exc.strerror or exc}); nothing written") from None
    return {"out": str(out), "files": len(files), "sha256": bytes_sha256(text.encode("utf-8"))}


def _is_manifest(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.readline().rstrip("\n") == _HEADER
    except (OSError, UnicodeDecodeError):
        return False


def read_manifest(path) -> dict[str, str]:
    """Relative path -> SHA-256, as the manifest holds them; a one-line error naming the line otherwise.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> m = pathlib.Path(tempfile.mkdtemp()) / "m.seal"
    >>> _ = m.write_text("# comment\\n" + "0" * 64 + "  s1/a_data.csv\\n")
    >>> read_manifest(m)
    {'s1/a_data.csv': '0000000000000000000000000000000000000000000000000000000000000000'}
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnalysisError(f"--manifest {path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    out: dict[str, str] = {}
    for no, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if m is None or m.group(2).startswith("/") or ".." in Path(m.group(2)).parts:
            raise AnalysisError(f"--manifest {path}: line {no}: not 'SHA-256  relative/path' (a manifest "
                                "'compliance seal' wrote)")
        out[m.group(2)] = m.group(1)
    if not out:
        raise AnalysisError(f"--manifest {path}: lists no file")
    return out


def check_manifest(root, manifest) -> list[str]:
    """The discrepancies of a folder against a manifest, one line each: a file changed, gone or added.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a_data.csv").write_text("x\\n1\\n")
    >>> m = d.parent / (d.name + ".m"); _ = seal(d, m)
    >>> _ = (d / "b_data.csv").write_text("x\\n"); (d / "a_data.csv").unlink()
    >>> sorted(line.split(": ", 1)[1][:30] for line in check_manifest(d, m))
    ['in the manifest, but gone (del', 'not in the manifest (added sin']
    """
    from paradigms.hashing import file_sha256

    root = Path(root)
    want = read_manifest(manifest)
    have = {p.as_posix(): p for p in folder_files(root, skip=[manifest])}
    out = []
    name = Path(manifest).name
    for rel, sha in want.items():
        if rel not in have:
            out.append(f"{root / rel}: in the manifest, but gone (deleted or renamed since the seal, {name})")
        elif file_sha256(root / rel) != sha:
            out.append(f"{root / rel}: SHA-256 differs from the manifest (changed since the seal, {name})")
    for rel in have:
        if rel not in want:
            out.append(f"{root / rel}: not in the manifest (added since the seal, {name})")
    return out
