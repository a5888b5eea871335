"""Exceptions and warnings of the analysis package.

Every message is a single self-contained line, so that the command line can print
``error: <message>`` and exit.
"""
from __future__ import annotations

from paradigms.errors import ComplianceError

__all__ = [
    "AnalysisError",
    "DataValidationError",
    "ReferenceDataError",
    "SmallExpectedCountWarning",
    "DegenerateTableWarning",
    "DataIntegrityWarning",
]


class AnalysisError(ComplianceError, ValueError):
    """Base class of the errors raised by :mod:`analysis`."""


class DataValidationError(AnalysisError):
    """A session CSV does not match its paradigm's codebook.

    The message names the file, the line (CSV line, header = line 1, and the
    1-based data row) and the column.
    """


class ReferenceDataError(AnalysisError):
    """The published reference data are malformed, or a study/experiment is not in them."""


class SmallExpectedCountWarning(UserWarning):
    """An expected cell count of a chi-square test is below 5: prefer the exact tests."""


class DegenerateTableWarning(UserWarning):
    """A table has an empty row/column or a rate of 0 or 1: some statistics are undefined (NaN)."""


class DataIntegrityWarning(UserWarning):
    """Data that load but deserve a look: a file with no participants beside others, a
    file whose content no longer matches the SHA-256 its sidecar recorded."""
