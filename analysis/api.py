"""High-level entry points: load session files and analyse every experiment in them."""
from __future__ import annotations

import dataclasses
import warnings
from typing import Union

from analysis.stats.binary import analyze_experiment
from analysis.errors import DataValidationError
from analysis.load.sessions import LoadedData, PathLike, load_sessions
from analysis.results import ExperimentAnalysis

__all__ = ["analyze", "analyze_plan"]


def analyze(*sources: Union[PathLike, LoadedData], warn: bool = True) -> list:
    """Analyse every (paradigm, experiment) found in the given files/folders.

    Parameters
    ----------
    *sources : path(s) or LoadedData
        Session CSV files, folders (recursive ``*_data.csv``), or an already loaded
        :class:`~analysis.load.sessions.LoadedData`.
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
    :class:`~analysis.stats.counts.CountAnalysis`.

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> from analysis.load.synthetic import rows_from_counts, write_session_csv
    >>> _ = write_session_csv(tmp / "study-cialdini1975_exp-1_site-S1_session-1_data.csv", rows_from_counts("cialdini1975", 1, {"rejection_moderation": (25, 40), "exposure_control": (12, 40), "smaller_request_only": (13, 40)}, site="S1"))
    >>> (res,) = analyze(tmp)
    >>> res.n_analysed, [c.complied for c in res.conditions]
    (120, [25, 12, 13])
    >>> print(res.contrasts[0].label)
    door-in-the-face vs the two controls combined (the paper's test)
    """
    import paradigms

    if len(sources) == 1 and isinstance(sources[0], LoadedData):
        loaded = sources[0]
    else:
        loaded = load_sessions(*sources)
    out = []
    for study, exp in loaded.experiments():
        paradigm = paradigms.get(study)
        declared = paradigm.experiment(exp)
        with warnings.catch_warnings():
            if not warn:
                warnings.simplefilter("ignore")
            out.append(analyze_plan(loaded, paradigm, declared, warn=warn))
    return out


def analyze_plan(loaded: LoadedData, paradigm, experiment, warn: bool = True):
    """Run the declared analysis plan of one experiment; the plan's type chooses the analysis.

    ``ContrastPlan`` gives the binary analysis of every contrast;
    ``FactorialLogitPlan`` adds the declared treatment x moderator logistic
    model; ``CountPlan`` gives the count analysis.

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> from analysis.load.synthetic import rows_from_counts, write_session_csv
    >>> _ = write_session_csv(tmp / "study-cialdini1975_exp-1_site-S1_session-1_data.csv", rows_from_counts("cialdini1975", 1, {"rejection_moderation": (25, 40), "exposure_control": (12, 40), "smaller_request_only": (13, 40)}, site="S1"))
    >>> import paradigms
    >>> from analysis.load.sessions import load_sessions
    >>> ditf = paradigms.get('cialdini1975')
    >>> res = analyze_plan(load_sessions(tmp), ditf, ditf.experiment(1), warn=False)
    >>> type(res).__name__, res.n_analysed
    ('ExperimentAnalysis', 120)
    """
    from paradigms.base import ContrastPlan, CountPlan, FactorialLogitPlan

    plan = experiment.plan
    if isinstance(plan, CountPlan):
        from analysis.stats.counts import analyze_count_experiment
        return analyze_count_experiment(loaded, paradigm, experiment.number)
    if not isinstance(plan, ContrastPlan):
        raise DataValidationError(f"{loaded.files_of(paradigm.id, experiment.number)[0]}: study "
                                  f"{paradigm.id!r} declares a {type(plan).__name__}, which 'analyze' does not know")
    result = analyze_experiment(loaded.analysable(), paradigm, experiment.number, report=loaded.report, warn=warn,
                                files=loaded.files_of(paradigm.id, experiment.number))
    if isinstance(plan, FactorialLogitPlan):
        result = dataclasses.replace(result, interaction=_factorial(loaded, paradigm, experiment))
    return result


def _factorial(loaded: LoadedData, paradigm, experiment):
    """The declared factorial logistic model (treatment factor x moderator + covariates)."""
    from analysis.stats.factorial import technique_by_price

    plan = experiment.plan
    d = loaded.data
    d = d[(d["study"] == paradigm.id) & (d["experiment"] == experiment.number)]
    return technique_by_price(d, technique=plan.treatment_factor, price=plan.moderator,
                              reason=plan.covariates[0] if plan.covariates else None,
                              treatment=plan.treatment_level, control=plan.control_level)
