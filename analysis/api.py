"""High-level entry points: load session files and analyse every experiment in them."""
from __future__ import annotations

import dataclasses
import warnings
from typing import Union

from .binary import analyze_experiment
from .errors import DataValidationError
from .load import LoadedData, PathLike, load_sessions
from .results import ExperimentAnalysis

__all__ = ["analyze"]


def analyze(*sources: Union[PathLike, LoadedData], warn: bool = True) -> list:
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
        If a file is malformed.

    Notes
    -----
    Binary paradigms give an :class:`ExperimentAnalysis` (with the declared
    interaction model, if any); count paradigms a
    :class:`~analysis.counts.CountAnalysis`.
    """
    import paradigms

    if len(sources) == 1 and isinstance(sources[0], LoadedData):
        loaded = sources[0]
    else:
        loaded = load_sessions(*sources)
    out = []
    for study, exp in loaded.experiments():
        paradigm = paradigms.get(study)
        with warnings.catch_warnings():
            if not warn:
                warnings.simplefilter("ignore")
            if paradigm.outcome == "count":
                from .counts import analyze_count_experiment
                out.append(analyze_count_experiment(loaded, paradigm, exp))
                continue
            if paradigm.outcome != "binary":
                raise DataValidationError(f"{loaded.files_of(study, exp)[0]}: study {study!r} has a "
                                          f"{paradigm.outcome} outcome, which 'analyze' does not know")
            result = analyze_experiment(loaded.analysable(), paradigm, exp, report=loaded.report, warn=warn,
                                        files=loaded.files_of(study, exp))
            declared = paradigm.experiment(exp)
            if declared.interaction:
                result = dataclasses.replace(result, interaction=_factorial(loaded, paradigm, declared))
        out.append(result)
    return out


def _factorial(loaded: LoadedData, paradigm, experiment):
    """The declared interaction model: technique x price (+ the remaining factor as a main effect)."""
    from .interaction import technique_by_price

    technique, price = experiment.interaction[:2]
    levels = {role: {c.factors[technique] for c in experiment.conditions if c.role == role}
              for role in ("treatment", "control")}
    if len(levels["treatment"]) != 1 or len(levels["control"]) != 1:
        raise DataValidationError(f"{paradigm.id} experiment {experiment.number}: the factor {technique!r} "
                                  "must have one treatment level and one control level")
    others = [f for f in experiment.factors if f not in (technique, price)]
    d = loaded.data
    d = d[(d["study"] == paradigm.id) & (d["experiment"] == experiment.number)]
    return technique_by_price(d, technique=technique, price=price, reason=others[0] if others else None,
                              treatment=levels["treatment"].pop(), control=levels["control"].pop())
