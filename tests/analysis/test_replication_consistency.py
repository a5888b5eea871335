"""reproduce --search: the count tables consistent with the published N and statistics."""
from __future__ import annotations

import itertools

import pandas as pd

from tests.reference_values import pearson_2x2


# --------------------------------------------------------------------------- #
# reproduce --search
# --------------------------------------------------------------------------- #
def test_search_cialdini_e3_none_fits_and_says_why(cli):
    out = cli("reproduce", "cialdini1975", "--experiment", "3", "--search", check=0).stdout
    assert "Under no method does any table fit every published statistic" in out
    assert "χ2 = 2.88 and p = .091 cannot both hold" in out


def test_search_cialdini_e1_finds_the_published_table_within_the_last_digit():
    from analysis.replication.consistency import search_counts

    s = search_counts("cialdini1975", 1)
    pearson = {(f.method, f.level): f for f in s.fits}
    assert pearson[("pearson", "exact")].n_fits == 0          # χ² 6.4145 prints as 6.41, not 6.42
    loose = pearson[("pearson", "within_last_digit")]
    assert loose.tables == (((12, 24), (6, 24), (4, 24)),)    # and only Table 1 is within the last digit
    assert pearson[("yates", "within_last_digit")].n_fits == 0


def test_search_against_a_brute_force_loop():
    """A small made-up published set, searched by a plain Python loop with the hand formula."""
    from analysis.replication.consistency import search_counts

    rows = [dict(study="toy", experiment=1, condition="", control="", measure="complied", statistic="n", value=30.0,
                 as_printed="N = 30", decimals=0, tails=None, source="made up", confidence="weak", note="", line=2),
            dict(study="toy", experiment=1, condition="a", control="b", measure="complied", statistic="chi2",
                 value=3.1, as_printed="3.1", decimals=1, tails=None, source="made up", confidence="weak", note="",
                 line=3)]
    pub = pd.DataFrame(rows)
    pub["value"] = pub["value"].astype("Float64")
    pub["experiment"] = pub["experiment"].astype("Int64")
    pub["confidence"] = pd.Categorical(pub["confidence"], categories=["primary", "secondary", "weak"], ordered=True)
    s = search_counts("toy", 1, published=pub, methods=("pearson", "yates"))
    for method, yates in (("pearson", False), ("yates", True)):
        want = set()
        for n1 in range(1, 30):
            n2 = 30 - n1
            for k1, k2 in itertools.product(range(n1 + 1), range(n2 + 1)):
                if 0 < k1 + k2 < 30:
                    x = pearson_2x2(k1, n1 - k1, k2, n2 - k2, yates=yates)
                    if 3.05 - 1e-9 <= x <= 3.15 + 1e-9:
                        want.add(((k1, n1), (k2, n2)))
        fit = [f for f in s.fits if (f.method, f.level) == (method, "exact")][0]
        assert fit.n_fits == len(want) and set(fit.tables) == want
