"""analysis.stats.factorial.technique_by_price, checked against statsmodels and hand
computations made here (never against its own earlier output)."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.errors import AnalysisError
from analysis.stats.factorial import technique_by_price

# (price, technique, reason) -> (complied, n): arbitrary counts with no 0% or 100% cell
CELLS = {
    ("1", "tna", "none"): (9, 15), ("1", "control", "none"): (5, 14),
    ("1", "tna", "weak"): (12, 16), ("1", "control", "weak"): (7, 15),
    ("1", "tna", "good"): (13, 15), ("1", "control", "good"): (6, 13),
    ("5", "tna", "none"): (2, 14), ("5", "control", "none"): (4, 15),
    ("5", "tna", "weak"): (3, 16), ("5", "control", "weak"): (3, 14),
    ("5", "tna", "good"): (4, 15), ("5", "control", "good"): (5, 16),
}


def _frame(cells=CELLS) -> pd.DataFrame:
    rows = []
    for (price, tech, reason), (k, n) in cells.items():
        for i in range(n):
            rows.append(dict(condition=f"{price}_{tech}_{reason}", price=price, technique=tech, reason=reason,
                             complied=int(i < k), excluded=0, data_consent=1))
    return pd.DataFrame(rows)


def _pooled(cells, price, tech):
    k = sum(v[0] for key, v in cells.items() if key[0] == price and key[1] == tech)
    n = sum(v[1] for key, v in cells.items() if key[0] == price and key[1] == tech)
    return k, n


def _odds(k, n):
    return k / (n - k)


def test_saturated_model_ratio_of_odds_ratios_equals_the_cell_counts_by_hand():
    df = _frame()
    res = technique_by_price(df, reason=None)
    or_at = {p: _odds(*_pooled(CELLS, p, "tna")) / _odds(*_pooled(CELLS, p, "control")) for p in ("1", "5")}
    assert res.interaction.estimate == pytest.approx(or_at["5"] / or_at["1"], rel=1e-8)
    # the simple-effect odds ratios of a saturated model are the crude ones
    for s in res.simple_effects:
        assert s.odds_ratio == pytest.approx(or_at[s.price], rel=1e-8)
    # Woolf's SE of the log ratio of odds ratios: sqrt of the sum of 1/cell over the 8 cells
    cells = [c for p in ("1", "5") for t in ("tna", "control") for c in (_pooled(CELLS, p, t)[0],
             _pooled(CELLS, p, t)[1] - _pooled(CELLS, p, t)[0])]
    assert res.interaction.se == pytest.approx(math.sqrt(sum(1 / c for c in cells)), rel=1e-6)


def test_interaction_coefficient_equals_a_binomial_glm():
    df = _frame()
    res = technique_by_price(df)  # with reason as a main effect
    glm = smf.glm("complied ~ C(technique, Treatment('control')) * C(price, Treatment('1')) + C(reason)",
                  data=df, family=sm.families.Binomial()).fit()
    name = "C(technique, Treatment('control'))[T.tna]:C(price, Treatment('1'))[T.5]"
    assert res.interaction.coef == pytest.approx(glm.params[name], rel=1e-6)
    assert res.interaction.se == pytest.approx(glm.bse[name], rel=1e-5)
    assert res.interaction.p == pytest.approx(glm.pvalues[name], rel=1e-5)
    lo, hi = np.exp(glm.conf_int().loc[name])
    assert (res.interaction.ci_low, res.interaction.ci_high) == (pytest.approx(lo, rel=1e-5),
                                                                 pytest.approx(hi, rel=1e-5))
    # likelihood-ratio test: difference of deviances against the model without the interaction
    red = smf.glm("complied ~ C(technique, Treatment('control')) + C(price, Treatment('1')) + C(reason)",
                  data=df, family=sm.families.Binomial()).fit()
    assert res.interaction.lr_chi2 == pytest.approx(red.deviance - glm.deviance, rel=1e-6)
    # simple effect at $5: technique + interaction, SE from the GLM covariance
    t = "C(technique, Treatment('control'))[T.tna]"
    cov = glm.cov_params()
    est5 = glm.params[t] + glm.params[name]
    se5 = math.sqrt(cov.loc[t, t] + cov.loc[name, name] + 2 * cov.loc[t, name])
    s1, s5 = res.simple_effects
    assert (s1.price, s5.price) == ("1", "5")
    assert s1.odds_ratio == pytest.approx(math.exp(glm.params[t]), rel=1e-6)
    assert s5.odds_ratio == pytest.approx(math.exp(est5), rel=1e-6)
    assert s5.p == pytest.approx(2 * stats.norm.sf(abs(est5 / se5)), rel=1e-5)


def test_reason_moderation_is_the_three_way_likelihood_ratio():
    df = _frame()
    res = technique_by_price(df)
    full = smf.glm("complied ~ technique * price * reason", data=df, family=sm.families.Binomial()).fit()
    two = smf.glm("complied ~ (technique + price + reason)**2", data=df, family=sm.families.Binomial()).fit()
    assert res.reason_moderation.df == 2
    assert res.reason_moderation.chi2 == pytest.approx(two.deviance - full.deviance, rel=1e-6)


def test_risk_difference_is_pooled_over_reason_with_newcombes_interval():
    res = technique_by_price(_frame())
    for s in res.simple_effects:
        k1, n1 = _pooled(CELLS, s.price, "tna")
        k0, n0 = _pooled(CELLS, s.price, "control")
        assert (s.complied_treatment, s.n_treatment, s.complied_control, s.n_control) == (k1, n1, k0, n0)
        assert s.risk_difference == pytest.approx(k1 / n1 - k0 / n0)
        # Newcombe's method 10 from the Wilson limits, by hand
        l1, u1 = proportion_confint(k1, n1, method="wilson")
        l0, u0 = proportion_confint(k0, n0, method="wilson")
        p1, p0 = k1 / n1, k0 / n0
        d = p1 - p0
        assert s.rd_ci_low == pytest.approx(d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2), rel=1e-9)
        assert s.rd_ci_high == pytest.approx(d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2), rel=1e-9)


def test_excluded_and_withdrawn_rows_are_dropped():
    clean = _frame()
    noisy = pd.concat([clean, pd.DataFrame(
        [dict(condition="x", price="5", technique="tna", reason="none", complied=1, excluded=1,
              data_consent=1)] * 20
        + [dict(condition="x", price="5", technique="tna", reason="none", complied=1, excluded=0,
                data_consent=0)] * 15
        + [dict(condition="x", price="5", technique="tna", reason="none", complied=None, excluded=1,
                data_consent=0)] * 2)], ignore_index=True)
    a, b = technique_by_price(clean), technique_by_price(noisy)
    assert b.n == a.n == len(clean)
    assert (b.n_excluded, b.n_withdrawn) == (20, 17)
    assert b.interaction.coef == pytest.approx(a.interaction.coef, rel=1e-12)
    # a missing consent (could not be asked) is kept, as analysis.load.sessions keeps it
    asked_none = clean.assign(data_consent=np.where(np.arange(len(clean)) % 3 == 0, np.nan, 1))
    assert technique_by_price(asked_none).n == len(clean)


def test_reference_price_flips_the_interaction():
    df = _frame()
    low, high = technique_by_price(df), technique_by_price(df, reference_price="5")
    assert high.reference_price == "5" and high.other_price == "1"
    assert high.interaction.coef == pytest.approx(-low.interaction.coef, rel=1e-6)
    assert high.interaction.p == pytest.approx(low.interaction.p, rel=1e-6)


def test_numeric_price_column_reads_like_text():
    df = _frame()
    num = df.assign(price=df["price"].astype(int))
    assert technique_by_price(num).interaction.coef == pytest.approx(technique_by_price(df).interaction.coef)
    assert [s.price for s in technique_by_price(num).simple_effects] == ["1", "5"]


def test_separation_reports_what_is_estimable_with_a_note_and_keeps_the_risk_difference():
    # (issue 16 item 6; the R check of these numbers is in test_tna_interaction_separation.py)
    cells = dict(CELLS)
    for reason in ("none", "weak", "good"):
        cells[("5", "tna", reason)] = (0, 10)
    res = technique_by_price(_frame(cells))
    # the ratio of odds ratios is infinite at the ML limit: NA, the LR test beside it reported
    assert math.isnan(res.interaction.estimate) and res.interaction.method == "none"
    assert res.interaction.lr_chi2 > 0 and 0 < res.interaction.lr_p < 1
    s1, s5 = res.simple_effects
    assert s1.method == "wald" and not math.isnan(s1.p)
    assert s5.method == "firth" and math.isnan(s5.z) and 0 < s5.odds_ratio < 1 and not math.isnan(s5.p)
    assert any("separation" in n for n in res.notes)
    assert s5.risk_difference == pytest.approx(0 - _pooled(cells, "5", "control")[0]
                                               / _pooled(cells, "5", "control")[1])
    d = json.loads(json.dumps(res.to_dict()))
    assert d["interaction"]["estimate"] is None and d["interaction"]["method"] == "none"
    assert "not estimable" in d["apa"]
    str(res)  # still prints


@pytest.mark.parametrize("change,column", [
    (lambda d: d.drop(columns="price"), "price"),
    (lambda d: d.drop(columns="data_consent"), "data_consent"),
    (lambda d: d.assign(technique=d["technique"].replace("tna", "foot_in_door")), "technique"),
    (lambda d: d.assign(price=d["price"].replace({"5": "3"}).where(d.index % 2 == 0, "9")), "price"),
    (lambda d: d.assign(complied=d["complied"] * 2), "complied"),
])
def test_malformed_input_is_refused_naming_the_column(change, column):
    with pytest.raises(AnalysisError, match=repr(column)):
        technique_by_price(change(_frame()))


def test_to_dict_and_str():
    res = technique_by_price(_frame())
    d = json.loads(json.dumps(res.to_dict()))
    assert set(d["interaction"]) >= {"term", "estimate", "ci_low", "ci_high", "p"}
    assert [s["price"] for s in d["simple_effects"]] == ["1", "5"]
    for s in d["simple_effects"]:
        assert set(s) >= {"price", "risk_difference", "rd_ci_low", "rd_ci_high", "odds_ratio", "p"}
    text = str(res)
    assert "ratio of odds ratios" in text and "95% CI" in text and "p " in text
    assert f"N = {res.n}" in text


def test_on_simulated_pollock_sessions_through_the_loader(tmp_path):
    import paradigms
    from analysis.load.sessions import load_sessions
    from paradigms.engine.sessions import simulate
    res = simulate(paradigms.get("pollock1998"), 1, 120, seed=21, data_dir=tmp_path)
    loaded = load_sessions(res.csv_path)
    out = technique_by_price(loaded.data)
    assert out.n == len(loaded.analysable())
    raw = pd.read_csv(res.csv_path)  # plain read: price as integers, complied as int
    assert technique_by_price(raw).interaction.coef == pytest.approx(out.interaction.coef, rel=1e-9)


def test_analysis_interaction_does_not_import_psychopy():
    code = "import sys, analysis.stats.factorial; print('psychopy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
