"""The toolkit's own errors: what it reports in one line, as against a bug.

Every error the toolkit raises on purpose -- a bad declaration, a bad schedule,
bad input on the command line, a data file that does not match its codebook --
derives from :class:`ComplianceError`, and its message is one self-contained
line naming what is wrong (the file, row and field, where there is one).  The
command line prints those as ``compliance: error: <message>`` with exit code 2;
anything else is a bug, and shows its traceback.

They also derive from the built-in class a caller would expect (``ValueError``
for a bad value, ``FileExistsError`` for a file that is there), so code that
catches those keeps working.

>>> issubclass(UsageError, ValueError) and issubclass(UsageError, ComplianceError)
True
"""
from __future__ import annotations

__all__ = ["ComplianceError", "UsageError"]


class ComplianceError(Exception):
    """Base of every error the toolkit reports in one line."""


class UsageError(ComplianceError, ValueError):
    """A value given to the toolkit (a flag, an argument, an entry) is not valid."""
