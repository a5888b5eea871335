"""Every result class of analysis/ on one base (issue 8, item 4).

The base (:class:`analysis.results.Result`) gives each result ``statistic``,
``pvalue``, ``ci_low``, ``ci_high`` (its own fields, or properties reading its
older-named fields), ``to_dict()`` that keeps every old ``--json`` key, and a tidy
``to_frame()`` with fixed columns.  The classes are found by walking the package,
so a new result class that forgets the base fails here.

The likelihood-ratio numbers are R 4.2.2's, each with the call that made it.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import math
import pkgutil
import types
import warnings

import numpy as np
import pandas as pd
import pytest

import analysis
import paradigms
from analysis.results import COMMON, FRAME_COLUMNS, ExclusionCount, LikelihoodRatioTest, Result, jsonable

#: frozen dataclasses of analysis/ that are not results, and why
NOT_RESULTS = {
    "analysis.load.sessions.LoadedData": "the loaded session data (a DataFrame and its report), input to the analyses",
    "analysis.load.inputs.AnalysisInput": "one experiment's analysable rows and declaration, input to an analysis",
    "analysis.report.build.Section": "a section of the HTML report: a template and the results it renders",
    "analysis.report.build.Report": "the HTML report itself, a view of results",
    "analysis.power.interim.LookRecord": "an interim look as put on the audit record (its log entry, whether "
                                         "it repeats the last one, the looks before it, its flags): a record",
}
#: modules that are not imported here: scripts run by hand
NOT_IMPORTED = ("analysis.examples",)


def _modules():
    yield analysis
    for info in pkgutil.walk_packages(analysis.__path__, "analysis."):
        if not info.name.startswith(NOT_IMPORTED):
            yield importlib.import_module(info.name)


def _frozen_dataclasses():
    for mod in _modules():
        for name, obj in vars(mod).items():
            if (inspect.isclass(obj) and obj.__module__ == mod.__name__ and dataclasses.is_dataclass(obj)
                    and not name.startswith("_") and obj.__dataclass_params__.frozen):
                yield f"{mod.__name__}.{name}", obj


def test_every_result_class_of_analysis_derives_from_the_one_base():
    found = dict(_frozen_dataclasses())
    results = {k: c for k, c in found.items() if k not in NOT_RESULTS}
    assert set(NOT_RESULTS) <= set(found), "a documented exception no longer exists: drop it from NOT_RESULTS"
    assert len(results) >= 40  # the walk really found the modules
    off_base = sorted(k for k, c in results.items() if not issubclass(c, Result))
    assert off_base == []
    # and everything named like a result, frozen or not
    named = {f"{m.__name__}.{n}": c for m in _modules() for n, c in vars(m).items()
             if inspect.isclass(c) and c.__module__ == m.__name__ and n.endswith("Result")}
    assert all(issubclass(c, Result) for c in named.values()), named
    assert dataclasses.is_dataclass(Result) and Result.__dataclass_params__.frozen


def test_one_likelihood_ratio_class_under_both_old_names():
    from analysis.stats import counts, factorial as interaction

    assert counts.LRTest is LikelihoodRatioTest is interaction.LikelihoodRatioTest
    assert counts.LRTest.__module__ == "analysis.results"


# --------------------------------------------------------------------------- #
# Real analyses, small and typed in
# --------------------------------------------------------------------------- #
# the typed-in data of the count and factorial tests (their R values are recorded there and below)
from tests.analysis.test_stats_counts_edge_cases import CELLS as COUNT_CELLS  # noqa: E402
from tests.analysis.test_stats_factorial import CELLS as TNA_CELLS  # noqa: E402

DITF_E1 = {"rejection_moderation": (25, 40), "exposure_control": (12, 40), "smaller_request_only": (13, 40)}


def count_frame(cells=COUNT_CELLS) -> pd.DataFrame:
    return pd.DataFrame([{"favor": a, "liking": b, "tickets": y, "liking_score": 4 + (i % 5) - 2 * (y % 2),
                          "excluded": 0, "data_consent": 1}
                         for (a, b), ys in cells.items() for i, y in enumerate(ys)])


def tna_frame(cells=TNA_CELLS) -> pd.DataFrame:
    return pd.DataFrame([dict(condition=f"{p}_{t}_{r}", price=p, technique=t, reason=r, complied=int(i < k),
                              excluded=0, data_consent=1)
                         for (p, t, r), (k, n) in cells.items() for i in range(n)])


@pytest.fixture(scope="module")
def counts_result():
    from analysis.stats.counts import analyze_count_plan

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analyze_count_plan(count_frame(), paradigms.get("regan1971").experiment(1))


@pytest.fixture(scope="module")
def tna_result():
    from analysis.stats.factorial import technique_by_price

    return technique_by_price(tna_frame())


@pytest.fixture(scope="module")
def results(counts_result, tna_result, tmp_path_factory):
    """One instance of as many result classes as a quick run makes, from real analyses."""
    from analysis.stats import binary
    from analysis.meta import pooling as meta
    from analysis.replication import original, verdict as replication
    from analysis.power import exact as power, simulated as simpower
    from analysis.load import synthetic
    from analysis.records import verify
    from analysis.replication.reproduce import reproduce
    from analysis.replication.consistency import search_counts

    out = [counts_result, tna_result]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = synthetic.frame_from_counts("cialdini1975", 1, DITF_E1)
        out.append(binary.analyze_experiment(df, "cialdini1975", 1))
        out.append(ExclusionCount("exposure_control", "excluded", "knew the requester", 1))
        sites = [meta.site_effect(f"S{i}", x1, 40, x2, 40) for i, (x1, x2) in
                 enumerate([(25, 12), (20, 15), (30, 10), (18, 17)], 1)]
        out += [meta.random_effects([s.log_or for s in sites], [s.var_log_or for s in sites], method="REML"),
                meta.fixed_effects(sites)]
        from analysis.meta.mh import mantel_haenszel
        out.append(mantel_haenszel([25, 20, 30, 18], [15, 20, 10, 22], [12, 15, 10, 17], [28, 25, 30, 23]))
        pooled = tmp_path_factory.mktemp("sites")
        for i, (x1, x2) in enumerate([(25, 12), (20, 15), (30, 10)], 1):
            counts = {"rejection_moderation": (x1, 40), "exposure_control": (x2, 40), "smaller_request_only": (x2, 40)}
            synthetic.write_session_csv(pooled / f"study-cialdini1975_exp-1_site-S{i}_session-1_data.csv",
                                        synthetic.rows_from_counts("cialdini1975", 1, counts, site=f"S{i}"))
        out.append(meta.pool(pooled))
        out += [power.power_two_proportions(0.5, 0.3, 40, 40), power.sample_size_two_proportions(0.5, 0.3),
                power.d33(40, 40, 0.3), power.power_curve(0.5, 0.3, [20, 40])]
        out.append(replication.replicate(study="cialdini1975", experiment=1, counts=DITF_E1))
        out += list(reproduce("cialdini1975", experiment=1))
        exp = paradigms.get("cialdini1975").experiment(1)
        out.append(original.original_effect("cialdini1975", 1, exp.contrasts[0]))
        out.append(search_counts("cialdini1975", 1))
        out.append(simpower.simulation_power(paradigms.get("pollock1998"), 1, n=10, simulations=4, seed=1))
        out.append(simpower.SimulationSampleSize("pollock1998", 1, "interaction", 0.8, 20, 0.8, 0.126,
                                                 ((10, 0.5), (20, 0.8)), 40))
        from analysis.power.multisite import multisite_power, multisite_sample_size_rates
        out.append(multisite_power("cialdini1975", 1, 0, sites=3, n=10, tau=0.2, simulations=4, seed=1))
        out.append(multisite_sample_size_rates(0.6, 0.2, sites=3, tau=0.1, simulations=10, seed=1))
        folder = tmp_path_factory.mktemp("verify")
        synthetic.write_session_csv(folder / "study-cialdini1975_exp-1_site-S1_session-1_data.csv",
                                    synthetic.rows_from_counts("cialdini1975", 1, DITF_E1))
        out.append(verify.verify(folder))
        from analysis.replication.verdict import load_replications
        from analysis.replication.whole_study import compare_whole_study
        reps = load_replications()
        out.append(compare_whole_study("kunz1976", 1, reps[reps.replication == "meier2016"]))
        # issue 24: designs, plans, sequential designs, interim looks, adherence; issue 25.5: Mantel-Haenszel
        from analysis.meta.mh import mantel_haenszel
        from analysis.power import adherence, design, sequential

        out.append(design.design_of("cialdini1975", 1, 0))
        out += design.plan_experiment("burger1986", 1)["rows"]          # each holds its ContrastDesign
        plan = sequential.exact_sequential(20, 20, 2, p1=0.5, p2=0.2)   # holds its GroupSequentialDesign
        out += [plan, sequential.interim_look(plan, 5, 10, 4, 10)]
        facts = {"sequential": {"looks": 2, "spending": "obrien-fleming", "alternative": "two-sided",
                                "alpha": 0.05, "n1": [10, 20], "n2": [10, 20], "contrast": "a vs b"}}
        k = types.SimpleNamespace(label="a vs b", complied_treatment=10, n_treatment=10, complied_control=0,
                                  n_control=10)
        out.append(sequential.interim_result(facts, types.SimpleNamespace(contrasts=(k,)), "p.md"))
        out += [adherence.check_adherence({"total_n": 60}, "p.md", {"x": (10, 30), "y": (5, 25)}),
                adherence.Adherence("p.md", (), ("N",))]
        out.append(mantel_haenszel([25, 20, 30], [15, 20, 10], [12, 15, 10], [28, 25, 30]))
    return out


def _all(results):
    """Every result reachable from the top-level ones (parts of parts included)."""
    seen, stack = [], list(results)
    while stack:
        r = stack.pop()
        seen.append(r)
        stack += [child for _, child in r._parts()]
    return seen


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        return math.isclose(float(a), float(b), rel_tol=0, abs_tol=0)
    return a == b


def test_the_instances_cover_the_result_classes(results):
    made = {type(r) for r in _all(results)}
    classes = {c for k, c in _frozen_dataclasses() if k not in NOT_RESULTS} - {Result}
    assert classes - made == set(), "add an instance of the new class to the `results` fixture"


def test_common_attributes_are_the_old_named_fields(results):
    for r in _all(results):
        for name in COMMON:
            value = getattr(r, name)  # every result has all four
            source = type(r)._aliases.get(name)
            if source is not None:
                assert _same(value, getattr(r, source)), (type(r).__name__, name)
            elif name not in {f.name for f in dataclasses.fields(r)}:
                assert value is None, (type(r).__name__, name)


def test_to_dict_keeps_every_field_as_a_key_and_adds_the_common_names(results):
    for r in _all(results):
        d = r.to_dict()
        json.dumps(d, allow_nan=False)
        cls = type(r)
        fields = {f.name for f in dataclasses.fields(r)}
        wrapped = getattr(cls.to_dict, "__wrapped__", None)
        old = set(wrapped(r)) if wrapped else fields
        assert old <= set(d), (cls.__name__, old - set(d))
        for name in COMMON:
            if name in cls._aliases or name in fields:
                assert name in d and _same(d[name], jsonable(getattr(r, name))), (cls.__name__, name)


def test_to_frame_has_the_fixed_columns_and_the_values_of_to_dict(results):
    for r in _all(results):
        f = r.to_frame()
        assert tuple(f.columns[:len(FRAME_COLUMNS)]) == FRAME_COLUMNS, type(r).__name__
        assert len(f) >= 1, type(r).__name__
        if list(r._parts()) or type(r).__name__ in ("FixedEffects", "PowerCurve"):
            continue  # stacked, or several estimates of one result: below
        row, d = f.iloc[0], r.to_dict()
        for name in COMMON:
            if name in d and not isinstance(getattr(r, name), str):
                assert _same(jsonable(row[name]), d[name]), (type(r).__name__, name)
        src = type(r)._aliases.get("estimate")
        if src is not None:
            assert _same(jsonable(row["estimate"]), jsonable(getattr(r, src))), type(r).__name__


def test_a_container_stacks_its_parts_frames(counts_result, tna_result, results):
    ea = next(r for r in results if type(r).__name__ == "ExperimentAnalysis")
    f = ea.to_frame()
    parts = ["conditions"] * 3 + ["contrasts"] * len(ea.contrasts) + ["omnibus", "logit"]
    parts += ["logit.terms"] * len(ea.logit.terms) + ["exclusions"] * len(ea.exclusions)
    assert list(f["part"]) == parts
    k = ea.contrasts[0]
    row = f[f["part"] == "contrasts"].iloc[0]
    assert (row["term"], row["estimate"], row["ci_low"], row["ci_high"], row["statistic"], row["pvalue"]) == (
        k.label, k.risk_difference, k.rd_ci_low, k.rd_ci_high, k.chi2, k.chi2_p)
    assert row["measure"] == "risk difference" and row["n"] == k.n

    f = counts_result.to_frame()
    nb = f[f["part"] == "negative_binomial.tests"]
    assert list(nb["term"]) == [t.term for t in counts_result.negative_binomial.tests]
    assert list(nb["statistic"]) == [t.chi2 for t in counts_result.negative_binomial.tests]
    assert set(f["part"]) >= {"cells", "anova", "poisson", "poisson.terms", "poisson.tests", "contrasts"}
    assert f[f["part"] == "poisson.terms"]["measure"].eq("rate ratio").all()

    f = tna_result.to_frame()
    assert list(f["part"]) == ["interaction", "simple_effects", "simple_effects", "reason_moderation"]
    assert f.iloc[0]["estimate"] == tna_result.interaction.estimate


def test_old_json_keys_of_the_renamed_things_are_all_still_there(counts_result, tna_result, results):
    # the keys main gave before the base (field lists of the old classes)
    glm_term = counts_result.poisson.terms[1].to_dict()
    assert {"term", "estimate", "se", "z", "p", "rate_ratio", "rr_low", "rr_high", "notes"} <= set(glm_term)
    assert (glm_term["pvalue"], glm_term["ci_low"], glm_term["ci_high"]) == (glm_term["p"], glm_term["rr_low"],
                                                                              glm_term["rr_high"])
    lr_counts = counts_result.poisson.tests[0].to_dict()
    assert {"term", "chi2", "df", "p", "notes"} <= set(lr_counts)
    lr_tna = tna_result.reason_moderation.to_dict()
    assert {"label", "chi2", "df", "p"} <= set(lr_tna)
    assert lr_tna["statistic"] == lr_tna["chi2"] and lr_tna["pvalue"] == lr_tna["p"]
    ea = next(r for r in results if type(r).__name__ == "ExperimentAnalysis")
    k = ea.to_dict()["contrasts"][0]
    assert {"chi2", "chi2_p", "rd_ci_low", "rd_ci_high", "or_ci_low", "rr_ci_low", "fisher_p", "control",
            "control_conditions", "n", "apa"} <= set(k)
    assert (k["statistic"], k["pvalue"], k["ci_low"]) == (k["chi2"], k["chi2_p"], k["rd_ci_low"])
    d = counts_result.to_dict()
    assert {"cells", "anova", "poisson", "negative_binomial", "contrasts", "liking_correlation",
            "correlation_difference", "threshold", "methods", "notes"} <= set(d)


# --------------------------------------------------------------------------- #
# The two LR tests, now one class: numbers and sentences unchanged
# --------------------------------------------------------------------------- #
def test_the_factorial_models_lr_tests_are_rs():
    # R 4.2.2, the TNA_CELLS rows (complied 1 for the first k of n), factors with levels
    # price c(1, 5), technique c("control", "tna"):
    #   full <- glm(complied ~ technique * price * reason, binomial, rows)
    #   two  <- glm(complied ~ (technique + price + reason)^2, binomial, rows)
    #   anova(two, full, test = "LRT")   # Deviance 0.2468712873, Df 2, Pr(>Chi) 0.8838785226
    #   m  <- glm(complied ~ technique * price + reason, binomial, rows)
    #   m0 <- glm(complied ~ technique + price + reason, binomial, rows)
    #   anova(m0, m, test = "LRT")       # Deviance 6.4532106148, Df 1, Pr(>Chi) 0.0110752026
    from analysis.stats.factorial import technique_by_price

    res = technique_by_price(tna_frame())
    lr = res.reason_moderation
    assert isinstance(lr, LikelihoodRatioTest)
    assert lr.df == 2 and lr.chi2 == pytest.approx(0.2468712873, abs=1e-8)
    assert lr.p == pytest.approx(0.8838785226, abs=1e-8) and lr.pvalue == lr.p and lr.statistic == lr.chi2
    assert res.interaction.lr_chi2 == pytest.approx(6.4532106148, abs=1e-8)
    assert res.interaction.lr_p == pytest.approx(0.0110752026, abs=1e-9)
    assert str(lr) == "technique × price × reason: LR χ²(2) = 0.25, p = .884"
    assert f"  {lr}" in str(res).splitlines()


def test_the_count_models_lr_tests_are_rs(counts_result):
    # R 4.2.2, d = COUNT_CELLS as (favor, liking, tickets):
    #   add <- glm(tickets ~ favor + liking, poisson, d); full <- glm(tickets ~ favor * liking, poisson, d)
    #   anova(glm(tickets ~ liking, poisson, d), add, test = "LRT")  # 23.1066398867, 2, 9.604105033e-06
    #   anova(glm(tickets ~ favor, poisson, d), add, test = "LRT")   # 4.9155803389, 1, 0.02661552036
    #   anova(add, full, test = "LRT")                               # 3.3994582088, 2, 0.1827330189
    tests = {t.term: t for t in counts_result.poisson.tests}
    for term, chi2, df, p in (("favor", 23.1066398867, 2, 9.604105033e-06), ("liking", 4.9155803389, 1, 0.02661552036),
                              ("favor x liking", 3.3994582088, 2, 0.1827330189)):
        t = tests[term]
        assert isinstance(t, LikelihoodRatioTest) and t.label == term
        assert t.df == df and t.chi2 == pytest.approx(chi2, abs=1e-8) and t.p == pytest.approx(p, rel=1e-8)
    # the model's printed lines are as before the classes were merged
    lines = str(counts_result.poisson).splitlines()
    assert "  LR favor: χ²(2) = 23.11, p < .001" in lines
    assert "  LR favor x liking: χ²(2) = 3.40, p = .183" in lines


def test_an_lr_test_not_computed_says_why():
    t = LikelihoodRatioTest("favor", float("nan"), 0, float("nan"), ("nothing to test",))
    assert str(t) == "favor: nothing to test"
    assert t.to_dict()["statistic"] is None and t.to_frame().iloc[0]["term"] == "favor"


def test_the_mantel_haenszel_result_is_on_the_base_and_its_dict_has_the_ci():
    """MHResult was a NamedTuple: now a Result whose to_dict() keeps its field names and adds the common ones.

    The numbers are statsmodels' StratifiedTable (another implementation of the same estimator and test):
    the pooled OR (logOR_pooled), its RBG SE (logodds_pooled_se) and the uncorrected CMH test."""
    from statsmodels.stats.contingency_tables import StratifiedTable

    from analysis.meta.mh import MHResult, mantel_haenszel

    a, b, c, d = [25, 20, 30, 18], [15, 20, 10, 22], [12, 15, 10, 17], [28, 25, 30, 23]
    r = mantel_haenszel(a, b, c, d)
    assert isinstance(r, MHResult) and isinstance(r, Result)
    st = StratifiedTable([np.array([[w, x], [y, z]]) for w, x, y, z in zip(a, b, c, d)])
    assert r.log_or == pytest.approx(st.logodds_pooled, rel=1e-12)
    assert r.se == pytest.approx(st.logodds_pooled_se, rel=1e-12)
    test = st.test_null_odds(correction=False)
    assert r.cmh == pytest.approx(test.statistic, rel=1e-10) and r.cmh_p == pytest.approx(test.pvalue, rel=1e-9)
    d_ = r.to_dict()
    assert {"log_or", "se", "ci_low", "ci_high", "cmh", "cmh_p", "k", "k_pos"} <= set(d_)
    assert (d_["statistic"], d_["pvalue"]) == (r.cmh, r.cmh_p)
    lo, hi = st.logodds_pooled_confint()
    assert (d_["ci_low"], d_["ci_high"]) == (pytest.approx(lo, rel=1e-10), pytest.approx(hi, rel=1e-10))
    assert str(r).startswith(f"Mantel-Haenszel OR = {math.exp(r.log_or):.2f}")


# --------------------------------------------------------------------------- #
# One answer per question (issue 21): analyze() returns a Results container; one Wilson interval
# --------------------------------------------------------------------------- #
def test_analyze_returns_a_results_container_headed_simulated_where_the_data_are(tmp_path):
    from analysis import Analyses, Results, analyze
    from paradigms.engine.sessions import simulate

    p = paradigms.get("cialdini1975")
    folder = simulate(p, 1, 36, seed=5, data_dir=tmp_path / "sim").csv_path.parent
    res = analyze(folder, warn=False)
    assert isinstance(res, Analyses) and isinstance(res, Results) and isinstance(res, list)
    (one,) = res                                   # list behaviour kept
    assert type(one).__name__ == "ExperimentAnalysis"
    text = str(res)
    assert text.startswith("SIMULATED DATA") and str(one) in text
    assert "SIMULATED DATA" in res._repr_html_() and res._repr_html_().startswith("<pre")
    assert res._repr_markdown_().startswith("```text\nSIMULATED DATA")
    assert res.to_dict() == [jsonable(one)]

    real = tmp_path / "real"
    from analysis.load.synthetic import rows_from_counts, write_session_csv
    write_session_csv(real / "study-cialdini1975_exp-1_site-S1_session-1_data.csv",
                      rows_from_counts("cialdini1975", 1, DITF_E1, site="S1"))
    both = analyze(real, warn=False)
    assert both.labels == ("",) and str(both) == str(both[0])   # no label on data that are not simulated


def test_the_session_summary_prints_the_one_wilson_interval(tmp_path, capsys, monkeypatch):
    """paradigms/cli's end-of-session summary: who is analysed by analysis.load.status, the interval by
    analysis.stats.binary.wilson_ci; checked against the Wilson formula written out here."""
    import analysis.stats.binary as binary
    from analysis.format import ci
    from analysis.load.synthetic import rows_from_counts, write_session_csv
    from paradigms.cli import _print_summary

    p = paradigms.get("cialdini1975")
    rows = rows_from_counts("cialdini1975", 1, {"rejection_moderation": (7, 11), "exposure_control": (2, 9)})
    path = write_session_csv(tmp_path / "a_data.csv", rows, p.columns(1))
    calls = []
    real = binary.wilson_ci
    monkeypatch.setattr(binary, "wilson_ci", lambda k, n, alpha=0.05: calls.append((k, n)) or real(k, n, alpha))
    _print_summary(path, p)
    out = capsys.readouterr().out.splitlines()
    assert sorted(calls) == [(2, 9), (7, 11)]
    z = 1.959963984540054
    for cond, k, n in (("rejection_moderation", 7, 11), ("exposure_control", 2, 9)):
        centre, half = (k + z * z / 2) / (n + z * z), z * math.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
        line = next(ln for ln in out if ln.startswith(cond))
        assert line.endswith(ci(centre - half, centre + half, digits=1, percent=True, level=None)), line
