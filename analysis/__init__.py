"""Analysis of compliance replications: load, test, compare with the published studies.

Never imports PsychoPy: an analyst installs the toolkit without it and reads CSVs.

Examples
--------
>>> import analysis
>>> (e1,) = analysis.reproduce("cialdini1975", experiment=1)
>>> print(e1.n_mismatch, e1.n_known_conflict)   # the course page that swaps the control rates
0 2
"""

# Names are imported on first use (PEP 562), so that ``compliance --help`` and
# ``compliance list`` never pay for pandas, scipy and statsmodels.
_LAZY = {
    **dict.fromkeys(("analyze", "analyze_input"), "api"),
    "AnalysisInput": "load.inputs",
    **dict.fromkeys(("METHODS", "analyze_experiment", "barnard_exact_p", "cohens_h", "compare_proportions",
                     "condition_rate", "fisher_exact_p", "logistic_regression", "newcombe_diff_ci",
                     "odds_ratio_ci", "omnibus_chi2", "pearson_chi2", "risk_ratio_ci", "wilson_ci"), "stats.binary"),
    **dict.fromkeys(("AnalysisError", "DataValidationError", "DegenerateTableWarning", "ReferenceDataError",
                     "SmallExpectedCountWarning"), "errors"),
    **dict.fromkeys(("LoadedData", "load_sessions", "read_session_csv"), "load.sessions"),
    **dict.fromkeys(("load_published", "published_rates"), "replication.published"),
    **dict.fromkeys(("original_effect", "OriginalEffect", "OriginalSide", "OriginalArm"), "replication.original"),
    **dict.fromkeys(("power_two_proportions", "sample_size_two_proportions", "d33", "PowerResult",
                     "SampleSizeResult", "D33Result"), "power.exact"),
    **dict.fromkeys(("Check", "Reproduction", "Reproductions", "reproduce", "reproduce_experiment"),
                    "replication.reproduce"),
    **dict.fromkeys(("design_of", "designs_of", "ContrastDesign"), "power.design"),
    **dict.fromkeys(("boundaries", "exact_sequential", "GroupSequentialDesign", "ExactSequential"),
                    "power.sequential"),
    **dict.fromkeys(("ChiSquareResult", "ConditionRate", "ContrastResult", "ExclusionCount", "ExperimentAnalysis",
                     "LogitResult", "LogitTerm", "format_p", "jsonable", "Results", "Analyses"), "results"),
    **dict.fromkeys(("frame_from_counts", "rows_from_counts", "write_session_csv"), "load.synthetic"),
    **dict.fromkeys(("replicate", "Replication", "ContrastReplication"), "replication.verdict"),
    "Criterion": "replication.criteria",
    **dict.fromkeys(("pool", "random_effects", "PoolResult", "MetaResult"), "meta.pooling"),
    "plot_rates": "plots.rates",  # matplotlib is imported only when a plot is asked for
    "plot_forest": "plots.forest",
}

__all__ = [
    # loading
    "load_sessions", "read_session_csv", "LoadedData",
    # analysis
    "analyze", "analyze_input", "AnalysisInput", "analyze_experiment", "METHODS",
    "wilson_ci", "condition_rate", "newcombe_diff_ci", "odds_ratio_ci", "risk_ratio_ci", "cohens_h",
    "pearson_chi2", "fisher_exact_p", "barnard_exact_p", "compare_proportions", "omnibus_chi2",
    "logistic_regression",
    # results
    "ConditionRate", "ChiSquareResult", "ContrastResult", "LogitTerm", "LogitResult", "ExclusionCount",
    "ExperimentAnalysis", "format_p", "jsonable", "Results", "Analyses",
    # multi-site pooling
    "pool", "random_effects", "PoolResult", "MetaResult", "plot_forest",
    # published data and reproduction
    "load_published", "published_rates", "reproduce", "reproduce_experiment", "Check", "Reproduction", "Reproductions",
    # replication verdicts
    "replicate", "Replication", "ContrastReplication", "Criterion",
    # power, sample size, the original's effect
    "power_two_proportions", "sample_size_two_proportions", "d33", "PowerResult", "SampleSizeResult",
    "D33Result", "original_effect", "OriginalEffect", "OriginalSide", "OriginalArm",
    # one design per contrast, group-sequential designs
    "design_of", "designs_of", "ContrastDesign", "boundaries", "exact_sequential", "GroupSequentialDesign",
    "ExactSequential",
    # plotting
    "plot_rates",
    # synthetic data
    "rows_from_counts", "frame_from_counts", "write_session_csv",
    # errors and warnings
    "AnalysisError", "DataValidationError", "ReferenceDataError", "SmallExpectedCountWarning",
    "DegenerateTableWarning",
]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))

