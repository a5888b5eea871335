"""Advisory file locks (POSIX ``fcntl.flock``; ``msvcrt.locking`` on Windows).

Two uses: the slot ledger is locked while a slot is read and taken, so two
tablets sharing one schedule folder never take the same slot; and a running
session holds a lock on its own event journal, so recovery can tell a session
that is still running (on this or another machine) from one that crashed.
Locks are released by the operating system when the process dies, so a
SIGKILL never leaves a stale lock behind.
"""
from __future__ import annotations

import contextlib
import os
import time

__all__ = ["lock", "try_lock", "unlock", "is_locked", "locked_dir"]

try:  # POSIX
    import fcntl

    def _lock(fd: int, exclusive: bool, block: bool) -> bool:
        flags = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if block else fcntl.LOCK_NB)
        try:
            fcntl.flock(fd, flags)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _lock(fd: int, exclusive: bool, block: bool) -> bool:
        # msvcrt has exclusive byte-range locks only; lock the first byte (it need not exist)
        pos = os.lseek(fd, 0, os.SEEK_CUR)
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                    return True
                except OSError:
                    if not block:
                        return False
                    time.sleep(0.01)
        finally:
            os.lseek(fd, pos, os.SEEK_SET)

    def _unlock(fd: int) -> None:
        pos = os.lseek(fd, 0, os.SEEK_CUR)
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        finally:
            os.lseek(fd, pos, os.SEEK_SET)


def lock(fh, exclusive: bool = True) -> None:
    """Wait for the lock on an open file."""
    _lock(fh.fileno(), exclusive, True)


def try_lock(fh, exclusive: bool = True) -> bool:
    """Take the lock if nobody holds it; ``False`` at once otherwise."""
    return _lock(fh.fileno(), exclusive, False)


def unlock(fh) -> None:
    _unlock(fh.fileno())


def is_locked(path) -> bool:
    """Whether another open file description holds a lock on ``path`` (a live session)."""
    try:
        fh = open(path, "rb")
    except OSError:
        return False
    try:
        if try_lock(fh, exclusive=True):
            unlock(fh)
            return False
        return True
    finally:
        fh.close()


@contextlib.contextmanager
def locked_dir(path):
    """Hold an exclusive lock on a folder while a shared file in it is read and rewritten
    (POSIX; elsewhere this does not lock)."""
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        try:
            _lock(fd, True, True)
        except OSError:
            pass
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
