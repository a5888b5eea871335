"""One rounding rule, half-up on the decimal value, for every printed number (issue 16, item 7)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from analysis.stats.binary import compare_proportions
from analysis.replication.reproduce import agreement
from analysis.results import _pct, format_number, format_p, round_half_up


def _by_hand(x, digits):  # half-up on the shortest decimal form, spelled out
    return str(Decimal(str(x)).quantize(Decimal(10) ** -digits, rounding=ROUND_HALF_UP))


@pytest.mark.parametrize("x,digits", [(0.125, 2), (0.375, 2), (2.675, 2), (0.285, 2), (-0.125, 2), (1.005, 2),
                                      (0.0125, 3), (12.5, 0), (0.5, 0), (2.5, 0)])
def test_format_number_rounds_half_up(x, digits):
    assert format_number(x, digits) == _by_hand(x, digits)


def test_python_formatting_would_differ_on_these():
    assert [f"{x:.2f}" for x in (0.125, 2.675, 1.005)] == ["0.12", "2.67", "1.00"]
    assert [format_number(x) for x in (0.125, 2.675, 1.005)] == ["0.13", "2.68", "1.01"]


def test_apa_sentence_prints_rd_0125_as_13():
    # RD = 0.125 exactly: 10/16 vs 8/16; before: ".12" (half to even on the binary value)
    r = compare_proportions(10, 16, 8, 16, warn=False)
    assert r.risk_difference == 0.125
    assert "RD = .13," in str(r)
    assert _pct(0.0625) == "6.3%" and _pct(0.125) == "12.5%"


def test_p_values_round_half_up_and_keep_apa_limits():
    assert format_p(0.0125) == "p = .013" and format_p(0.0445) == "p = .045"
    assert format_p(0.0009999) == "p < .001" and format_p(0.9995) == "p > .999"
    assert format_p(0.0015) == "p = .002"


def test_reproduce_uses_the_same_rule():
    assert str(round_half_up(0.125, 2)) == "0.13"
    # a published .13 is matched exactly by a recomputed 0.125 (both half-up)
    assert agreement(0.125, 0.13, 2) == "exact"
