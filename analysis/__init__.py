"""Analysis of compliance replications: load, test, compare with the published studies.

Never imports PsychoPy: an analyst installs the toolkit without it and reads CSVs.

Examples
--------
>>> import analysis
>>> (e1,) = analysis.reproduce("cialdini1975", experiment=1)
>>> print(e1.n_mismatch > 0)   # the course page that swaps the control rates
True
"""
from .api import analyze
from .binary import (METHODS, analyze_experiment, barnard_exact_p, cohens_h, compare_proportions,
                     condition_rate, fisher_exact_p, logistic_regression, newcombe_diff_ci, odds_ratio_ci,
                     omnibus_chi2, pearson_chi2, risk_ratio_ci, wilson_ci)
from .errors import (AnalysisError, DataValidationError, DegenerateTableWarning, ReferenceDataError,
                     SmallExpectedCountWarning)
from .load import LoadedData, load_sessions, read_session_csv
from .original import OriginalEffect, OriginalSide, original_effect
from .power import (D33Result, PowerResult, SampleSizeResult, d33, power_two_proportions,
                    sample_size_two_proportions)
from .published import load_published, published_rates
from .reproduce import Check, Reproduction, reproduce, reproduce_experiment
from .results import (ChiSquareResult, ConditionRate, ContrastResult, ExclusionCount, ExperimentAnalysis,
                      LogitResult, LogitTerm, format_p, jsonable)
from .synthetic import frame_from_counts, rows_from_counts, write_session_csv

__all__ = [
    # loading
    "load_sessions", "read_session_csv", "LoadedData",
    # analysis
    "analyze", "analyze_experiment", "METHODS",
    "wilson_ci", "condition_rate", "newcombe_diff_ci", "odds_ratio_ci", "risk_ratio_ci", "cohens_h",
    "pearson_chi2", "fisher_exact_p", "barnard_exact_p", "compare_proportions", "omnibus_chi2",
    "logistic_regression",
    # results
    "ConditionRate", "ChiSquareResult", "ContrastResult", "LogitTerm", "LogitResult", "ExclusionCount",
    "ExperimentAnalysis", "format_p", "jsonable",
    # published data and reproduction
    "load_published", "published_rates", "reproduce", "reproduce_experiment", "Check", "Reproduction",
    # power, sample size, the original's effect
    "power_two_proportions", "sample_size_two_proportions", "d33", "PowerResult", "SampleSizeResult",
    "D33Result", "original_effect", "OriginalEffect", "OriginalSide",
    # plotting
    "plot_rates",
    # synthetic data
    "rows_from_counts", "frame_from_counts", "write_session_csv",
    # errors and warnings
    "AnalysisError", "DataValidationError", "ReferenceDataError", "SmallExpectedCountWarning",
    "DegenerateTableWarning",
]


def __getattr__(name):  # matplotlib is imported only when a plot is asked for
    if name == "plot_rates":
        from .plot import plot_rates

        return plot_rates
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
