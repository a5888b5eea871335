"""One design decision per contrast (issue 21): d33, the original's power and n for 80% asked everywhere.

Every place that answers these questions (``compliance power --json``, ``compliance replicate --json``,
the report's power table, the Python API with ``design=``) reads the test, allocation, α and sidedness
from :func:`analysis.power.design.design_of`; each question gets one answer.

R 4.x, exact power of Pearson's χ² without correction by enumeration (the paper's test):
    pw <- function(p1,p2,n1,n2){s<-0; for(a in 0:n1) for(c in 0:n2){ m<-a+c; if(m==0||m==n1+n2) next
      p <- suppressWarnings(chisq.test(matrix(c(a,n1-a,c,n2-c),2,byrow=TRUE),correct=FALSE)$p.value)
      if(p<=0.05) s<-s+dbinom(a,n1,p1)*dbinom(c,n2,p2)}; s}
    pw(0.5,10/48,24,48) -> 0.727070477738    (the original's power, contrast 1)
    pw(0.5,10/48,29,58) -> 0.800116239171    (n = 29 with 1:2 reaches 80%)
    pw(0.5,10/48,28,56) -> 0.782139054968    (n = 28 does not)
"""
from __future__ import annotations

import json

import pytest

from analysis.power.design import design_of, designs_of

STUDY, EXP = "cialdini1975", 1


@pytest.fixture(autouse=True)
def _cap(capsys):
    global _CAP
    _CAP = capsys


def _cli(*args) -> dict:
    from paradigms.cli import main

    assert main([*args, "--json"]) == 0
    return json.loads(_CAP.readouterr().out)


@pytest.fixture(scope="module")
def designs():
    return designs_of(STUDY, EXP)


def test_the_design_is_declared_not_guessed(designs):
    main, vs_exposure, vs_smaller = designs
    assert main.allocation == "1:2" and main.ratio == 2.0           # one condition vs two pooled controls
    assert vs_exposure.allocation == vs_smaller.allocation == "1:1"
    assert main.test == "chi2" and "6.42" in main.test_source        # reproduces the paper's chi2 = 6.42
    # not tested in the paper: tested as the paper tested its others (chi2 = .50 reproduced)
    assert vs_smaller.test == "chi2" and "paper's test" in vs_smaller.test_source and ".50" in vs_smaller.test_source
    assert main.alternative == "two-sided" and "two-tailed" in main.alternative_source
    assert main.alpha == main.alpha_per_test == 0.05 and main.correction == "none"
    assert main.describe().count("Pearson") == 1 and "1:2" in main.describe()


def test_d33_one_answer_everywhere(designs):
    from analysis.power.exact import d33

    power = _cli("power", STUDY, "--experiment", str(EXP), "--d33")
    rep = _cli("replicate", STUDY, "--experiment", str(EXP), "--counts", "rejection_moderation=25/40",
               "exposure_control=12/40", "smaller_request_only=13/40")
    for i, d in enumerate(designs):
        api = d33(design=d).cohens_h
        # computed another way: d33 with the test and n spelled out
        spelled = d33(d.n1, d.n2, d.p2, 0.05, "chi2", "two-sided").cohens_h
        assert api == pytest.approx(spelled, abs=1e-12)
        assert power["contrasts"][i]["d33"][0]["cohens_h"] == pytest.approx(api, abs=1e-9)
        assert rep["contrasts"][i]["d33_h"] == pytest.approx(abs(api), abs=1e-9)
    # the numbers: contrast 1 agreed (0.358); 2 and 3 are 0.438 / 0.441 (χ²), not 0.521 / 0.526 (Fisher)
    assert [round(d33(design=d).cohens_h, 3) for d in designs] == [0.358, 0.438, 0.441]


def test_power_of_the_original_one_answer_everywhere(designs):
    from analysis.power.exact import power_two_proportions
    from analysis.report.build import build_study_report

    power = _cli("power", STUDY, "--experiment", str(EXP))
    report = next(s for s in build_study_report(STUDY, EXP).sections if s.id == "power").context["rows"]
    for i, d in enumerate(designs):
        api = power_two_proportions(design=d).power
        assert power["contrasts"][i]["power"][0]["power"] == pytest.approx(api, abs=1e-12)
        assert report[i]["at_original"].power == pytest.approx(api, abs=1e-12)
        assert d.power_of_original().power == pytest.approx(api, abs=1e-12)
    assert power_two_proportions(design=designs[0]).power == pytest.approx(0.727070477738, abs=1e-9)  # R


def test_n_for_80_percent_one_answer_everywhere(designs):
    from analysis.power.exact import power_two_proportions, sample_size_two_proportions

    main = designs[0]
    power = _cli("power", STUDY, "--experiment", str(EXP), "--target", "0.8")
    api = sample_size_two_proportions(design=main)
    assert power["contrasts"][0]["sample_size"]["n_first"] == api.n_first == 29
    assert api.ratio == 2.0 and api.test == "chi2"
    # checked another way: the exact power at 28 and 29 (R values in the module docstring)
    assert power_two_proportions(0.5, 10 / 48, 29, 58, test="chi2").power == pytest.approx(0.800116239171, abs=1e-9)
    assert power_two_proportions(0.5, 10 / 48, 28, 56, test="chi2").power == pytest.approx(0.782139054968, abs=1e-9)
    # without a design the API answers for two plain proportions: Fisher, 1:1 (as power --rates), and says so
    plain = sample_size_two_proportions(0.5, 10 / 48, 0.8)
    assert (plain.test, plain.ratio) == ("fisher", 1.0)
    rates = _cli("power", "--rates", "0.5", str(10 / 48), "--target", "0.8")
    assert rates["contrasts"][0]["sample_size"]["n_first"] == plain.n_first


def test_a_declared_correction_sets_alpha_per_test():
    import dataclasses

    import paradigms

    exp = paradigms.get(STUDY).experiment(EXP)
    before = exp.plan
    object.__setattr__(exp, "plan", dataclasses.replace(before, correction="holm"))
    try:
        d = design_of(STUDY, EXP, 0)
        assert d.correction == "holm" and d.family_size == 3 and d.alpha_per_test == pytest.approx(0.05 / 3)
        assert "Holm" in d.describe() and ".0167" in d.describe()
    finally:
        object.__setattr__(exp, "plan", before)


def test_bad_correction_is_a_declaration_error():
    from paradigms.base import Contrast, ContrastPlan, DeclarationError

    with pytest.raises(DeclarationError, match="correction"):
        ContrastPlan((Contrast("a", ("b",), "a vs b"),), correction="sidak")


def test_unknown_contrast_is_one_line():
    from analysis.errors import AnalysisError

    with pytest.raises(AnalysisError, match="no contrast labelled"):
        design_of(STUDY, EXP, "nope")
