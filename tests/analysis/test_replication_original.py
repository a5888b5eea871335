"""original_effect: the original's counts or rates for one declared contrast, never a guess."""
from __future__ import annotations

import pandas as pd
import pytest

import paradigms
from analysis import AnalysisError, load_published, original_effect


def test_published_counts_are_used_and_pooled_controls_summed():
    e = original_effect("cialdini1975", 1, 0)       # vs both controls combined
    t, c = e.treatment, e.control
    assert (t.complied, t.n, c.complied, c.n) == (12, 24, 6 + 4, 24 + 24)
    assert not t.derived and not c.derived and e.counts_known and e.rates_known
    assert c.conditions == ("exposure_control", "smaller_request_only")
    assert "Table 1" in c.source and c.confidence == "secondary"


def test_counts_win_over_a_conflicting_rate_which_is_listed():
    e = original_effect("cialdini1975", 1, "door-in-the-face vs exposure control")
    assert (e.control.complied, e.control.n) == (6, 24)
    assert e.control.rate == 0.25
    assert any("16.7%" in a and "course page" in a for a in e.control.alternatives)
    assert any("conflicting" in n for n in e.notes)


def test_rate_and_n_give_derived_counts_highest_confidence_wins():
    e = original_effect("burger1986", 1, 0)
    c = e.control
    assert c.derived and (c.complied, c.n) == (12, 30) and c.rate == pytest.approx(0.40)
    assert c.confidence == "secondary"
    assert any("45%" in a and "weak" in a for a in c.alternatives)
    assert any("derived" in n and "rounded" in n for n in e.notes)
    t = e.treatment
    assert t.derived and (t.complied, t.n) == (22, 30)      # 73% of 30 = 21.9 -> 22 (22/30 = 73.3%)


def test_rates_without_n_have_no_counts():
    e = original_effect("cialdini1975", 2, 0)
    assert e.rates_known and not e.counts_known
    assert e.treatment.rate == 0.55 and e.treatment.complied is None and e.treatment.n is None
    assert e.control.rate == 0.105


def test_unpublished_rates_give_a_reason_not_a_number():
    e = original_effect("cialdini1975", 3, 0)
    assert not e.rates_known and e.treatment.rate is None
    assert "rates not published" in e.reason
    e2 = original_effect("cialdini1975", 2, 1)              # smaller-request-only rate of Exp. 2 missing
    assert e2.treatment.rate == 0.55 and e2.control.rate is None and "rates not published" in e2.reason


def test_pooled_rates_with_unknown_n_are_not_computable(tmp_path):
    # a pooled control whose members have rates but no n cannot be pooled: no equal-n guess
    pub = load_published()
    rows = pub[(pub.study == "cialdini1975") & (pub.experiment == 1)]
    keep = rows[~rows["statistic"].isin(["n", "complied"])]
    e = original_effect("cialdini1975", 1, 0, published=keep)
    assert e.treatment.rate == 0.5 and e.treatment.n is None
    assert e.control.rate is None and "not computable: original n unknown" in e.control.reason


def test_a_rate_published_for_the_pooled_label_is_used_directly():
    pub = load_published()
    base = pub[(pub.study == "cialdini1975") & (pub.experiment == 1) & (pub.condition == "rejection_moderation")]
    pooled = base.copy()
    pooled["condition"] = "exposure_control+smaller_request_only"
    pooled.loc[pooled.statistic == "n", "value"] = 48
    pooled.loc[pooled.statistic == "complied", "value"] = 9     # a fictitious pooled figure, to see it used
    e = original_effect("cialdini1975", 1, 0, published=pd.concat([pub, pooled]))
    assert (e.control.complied, e.control.n) == (9, 48)


def test_every_declared_contrast_gives_an_answer():
    for name in paradigms.names():
        p = paradigms.get(name)
        for exp in p.experiments:
            for i in range(len(exp.plan.contrasts)):
                e = original_effect(name, exp.number, i)
                for side in (e.treatment, e.control):
                    assert (side.rate is not None) or side.reason
                    assert side.complied is None or 0 <= side.complied <= side.n
                d = e.to_dict()
                assert set(d) >= {"treatment", "control", "rates_known", "reason", "source"}
                assert str(e)


@pytest.mark.parametrize("args,word", [(("nosuch", 1, 0), "nosuch"), (("cialdini1975", 9, 0), "9"),
                                       (("cialdini1975", 1, 17), "17"), (("cialdini1975", 1, "no such"), "no such")])
def test_unknown_study_experiment_or_contrast(args, word):
    with pytest.raises(AnalysisError) as e:
        original_effect(*args)
    assert word in str(e.value) and "\n" not in str(e.value)
