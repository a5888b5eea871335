"""High-level entry points: load session files and analyse every experiment in them.

Every analysis is handed the same input, an :class:`~analysis.load.inputs.AnalysisInput`
(the experiment's analysable rows, its declaration, its load report and files);
:data:`ANALYSES` chooses the analysis by the type of the declared plan.  This is
where a study's name becomes its declaration; nothing below looks one up.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Callable, Union

from analysis.errors import DataValidationError
from analysis.load.inputs import AnalysisInput, analysis_input
from analysis.load.sessions import LoadedData, PathLike, load_sessions
from analysis.results import Analyses, ExperimentAnalysis
from paradigms.base import ContrastPlan, CountPlan, FactorialLogitPlan

__all__ = ["analyze", "analyze_plan", "analyze_input", "ANALYSES", "AnalysisInput"]


def analyze(*sources: Union[PathLike, LoadedData], warn: bool = True) -> Analyses:
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
    Analyses
        A list (:class:`~analysis.results.Results`) of one ExperimentAnalysis (or CountAnalysis) per
        (paradigm, experiment), in the order first seen; ``print()`` shows them all, each headed by
        ``SIMULATED DATA: ...`` (or ``PILOT DATA``) where its data are not real, and Jupyter renders
        them the same way.

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
    >>> type(analyze(tmp)).__name__
    'Analyses'
    """
    from analysis.declared import declaration
    from analysis.load.sessions import origin_label

    if len(sources) == 1 and isinstance(sources[0], LoadedData):
        loaded = sources[0]
    else:
        loaded = load_sessions(*sources)
    out, labels = [], []
    analysable = loaded.analysable()   # who is analysed: decided once, here, for every experiment
    for study, exp in loaded.experiments():
        paradigm = declaration(study)
        inp = analysis_input(loaded, paradigm, paradigm.experiment(exp), analysable)
        with warnings.catch_warnings():
            if not warn:
                warnings.simplefilter("ignore")
            out.append(analyze_input(inp, warn=warn))
        labels.append(origin_label(loaded.origin_of(study, exp)))
    return Analyses(out, labels)


def _contrasts(inp: AnalysisInput, warn: bool = True) -> ExperimentAnalysis:
    """``ContrastPlan``: every declared contrast of two proportions, the omnibus test and the logit."""
    from analysis.stats.binary import analyze_experiment

    return analyze_experiment(inp.frame, inp.paradigm, inp.experiment.number, report=inp.report, warn=warn,
                              files=inp.files)


def _factorial(inp: AnalysisInput, warn: bool = True) -> ExperimentAnalysis:
    """``FactorialLogitPlan``: the contrasts, and the declared treatment x moderator logistic model."""
    from analysis.stats.factorial import treatment_by_moderator_input

    return dataclasses.replace(_contrasts(inp, warn), interaction=treatment_by_moderator_input(inp))


def _counts(inp: AnalysisInput, warn: bool = True):
    """``CountPlan``: the count analysis."""
    from analysis.stats.counts import analyze_count_input

    return analyze_count_input(inp)


#: Plan type -> the analysis it gets; every analysis takes ``(AnalysisInput, warn)``.  A plan's
#: type is looked up along its class hierarchy, so a subclass of a registered plan gets its
#: parent's analysis.
ANALYSES: "dict[type, Callable]" = {FactorialLogitPlan: _factorial, ContrastPlan: _contrasts, CountPlan: _counts}


def analyze_input(inp: AnalysisInput, warn: bool = True):
    """Run the analysis the declared plan's type calls for on one experiment's input.

    Parameters
    ----------
    inp : AnalysisInput
        One experiment's analysable rows, declaration, load report and files.
    warn : bool
        Emit small-count and degenerate-table warnings where they apply.

    Returns
    -------
    ExperimentAnalysis or CountAnalysis

    Raises
    ------
    DataValidationError
        If the plan's type has no analysis.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.declared import declaration
    >>> from analysis.load.synthetic import frame_from_counts
    >>> ditf = declaration("cialdini1975")
    >>> frame = frame_from_counts("cialdini1975", 1, {"rejection_moderation": (25, 40), "exposure_control": (12, 40), "smaller_request_only": (13, 40)})
    >>> res = analyze_input(AnalysisInput(frame, ditf, ditf.experiment(1), pd.DataFrame()), warn=False)
    >>> type(res).__name__, res.n_analysed
    ('ExperimentAnalysis', 120)
    """
    plan = inp.experiment.plan
    for kind in type(plan).__mro__:
        if kind in ANALYSES:
            return ANALYSES[kind](inp, warn)
    where = inp.files[0] if inp.files else inp.paradigm.id
    raise DataValidationError(f"{where}: study {inp.paradigm.id!r} declares a {type(plan).__name__}, "
                              "which 'analyze' does not know")


def analyze_plan(loaded: LoadedData, paradigm, experiment, warn: bool = True):
    """Run the declared analysis plan of one experiment of loaded data; the plan's type chooses the analysis.

    ``ContrastPlan`` gives the binary analysis of every contrast;
    ``FactorialLogitPlan`` adds the declared treatment x moderator logistic
    model; ``CountPlan`` gives the count analysis (see :data:`ANALYSES`).

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
    return analyze_input(analysis_input(loaded, paradigm, experiment), warn=warn)
