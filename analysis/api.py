"""High-level entry points: load session files and analyse every experiment in them."""
from __future__ import annotations

import warnings
from typing import Union

from .binary import analyze_experiment
from .errors import DataValidationError
from .load import LoadedData, PathLike, load_sessions
from .results import ExperimentAnalysis

__all__ = ["analyze"]


def analyze(*sources: Union[PathLike, LoadedData], warn: bool = True) -> list[ExperimentAnalysis]:
    """Analyse every (paradigm, experiment) found in the given files/folders.

    Parameters
    ----------
    *sources : path(s) or LoadedData
        Session CSV files, folders (recursive ``*_data.csv``), or an already loaded
        :class:`~analysis.load.LoadedData`.
    warn : bool
        Emit :class:`~analysis.errors.SmallExpectedCountWarning` and
        :class:`~analysis.errors.DegenerateTableWarning` where they apply.

    Returns
    -------
    list of ExperimentAnalysis
        One per (paradigm, experiment), in the order first seen.

    Raises
    ------
    DataValidationError
        If a file is malformed, or a paradigm's outcome is not binary (count
        outcomes are analysed elsewhere).
    """
    import paradigms

    if len(sources) == 1 and isinstance(sources[0], LoadedData):
        loaded = sources[0]
    else:
        loaded = load_sessions(*sources)
    out = []
    for study, exp in loaded.experiments():
        paradigm = paradigms.get(study)
        if paradigm.outcome != "binary":
            raise DataValidationError(f"{loaded.files_of(study, exp)[0]}: study {study!r} has a "
                                      f"{paradigm.outcome} outcome; 'analyze' handles binary compliance only")
        with warnings.catch_warnings():
            if not warn:
                warnings.simplefilter("ignore")
            out.append(analyze_experiment(loaded.analysable(), paradigm, exp, report=loaded.report, warn=warn,
                                          files=loaded.files_of(study, exp)))
    return out
