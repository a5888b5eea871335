"""What every analysis is handed: one experiment's analysable rows and its declaration.

The loader decides who is analysed (:func:`analysis.load.status.participant_status`,
once); :func:`analysis_input` cuts one experiment out of the loaded data.  Each
statistic (binary contrasts, the factorial model, the count analysis) takes the
same :class:`AnalysisInput`, whatever its plan type.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pandas as pd

from analysis.load.status import report_counts

__all__ = ["AnalysisInput", "analysis_input"]


@dataclass(frozen=True)
class AnalysisInput:
    """One experiment, ready to analyse.

    Attributes
    ----------
    frame : DataFrame
        The analysable rows of this experiment (neither excluded nor withdrawn),
        typed by the codebook.
    paradigm : paradigms.base.Paradigm
        The declared study.
    experiment : paradigms.base.Experiment
        The declared experiment; its ``plan`` says what is analysed.
    report : DataFrame
        This experiment's rows of the load report (excluded, withdrawn, pending).
    files : tuple of str
        The files its rows came from.
    """

    frame: pd.DataFrame
    paradigm: object
    experiment: object
    report: pd.DataFrame
    files: tuple = ()

    @property
    def plan(self):
        """The experiment's declared analysis plan."""
        return self.experiment.plan

    @property
    def n_excluded(self) -> int:
        """Participants the report lists as excluded (not withdrawn)."""
        return report_counts(self.report)["excluded"]

    @property
    def n_withdrawn(self) -> int:
        """Participants the report lists as withdrawn."""
        return report_counts(self.report)["withdrawn"]


def analysis_input(loaded, paradigm, experiment, analysable: Optional[pd.DataFrame] = None) -> AnalysisInput:
    """The :class:`AnalysisInput` of one declared experiment of loaded session data.

    Parameters
    ----------
    loaded : analysis.load.sessions.LoadedData
    paradigm : paradigms.base.Paradigm
    experiment : paradigms.base.Experiment
    analysable : DataFrame, optional
        ``loaded.analysable()`` when already computed (for several experiments).

    Returns
    -------
    AnalysisInput

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.declared import declaration
    >>> from analysis.load.sessions import load_sessions
    >>> from analysis.load.synthetic import rows_from_counts, write_session_csv
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> rows = rows_from_counts("cialdini1975", 1, {"rejection_moderation": (3, 5), "exposure_control": (1, 4)})
    >>> rows[0]["data_consent"] = "0"
    >>> _ = write_session_csv(tmp / "a_data.csv", rows, rows[0].keys())
    >>> ditf = declaration("cialdini1975")
    >>> inp = analysis_input(load_sessions(tmp), ditf, ditf.experiment(1))
    >>> len(inp.frame), inp.n_withdrawn, type(inp.plan).__name__
    (8, 1, 'ContrastPlan')
    """
    frame = loaded.analysable() if analysable is None else analysable
    number = int(experiment.number)
    if len(frame):
        frame = frame[((frame["study"] == paradigm.id) & (frame["experiment"].astype(int) == number))
                      .to_numpy(dtype=bool)]
    rep = loaded.report
    if len(rep):
        rep = rep[((rep["study"] == paradigm.id) & (rep["experiment"].astype(int) == number)).to_numpy(dtype=bool)]
    return AnalysisInput(frame, paradigm, experiment, rep, tuple(loaded.files_of(paradigm.id, number)))
