"""``sample_size_two_proportions`` without a scan of every n (issue 26.2), against the linear scan.

The search brackets the first n reaching the target by bisection, confirms it stepping down
and finds the stable n stepping down from the bound (:func:`analysis.power.exact._first_reaching`).
Its answers must be the linear scan's: :func:`linear_reference` below is the function as it was
before issue 26.2 (every n from 2 up, the first reaching the target, then on to the bound), kept
here verbatim as the definition; both use the same exact power of each n (the kernel), so the
answers are compared exactly.  Speed is in ``benchmarks/test_sample_size_bench.py`` (no timing here).
"""
from __future__ import annotations

import math

import pytest

from analysis.power import exact
from analysis.power.exact import (_n2, _power_from_region, power_two_proportions,
                                  rejection_region, sample_size_two_proportions)


def linear_reference(p1, p2, target, alpha, test, alternative, ratio, n_max=2000, margin=None):
    """The linear scan of every n (the search before issue 26.2): (n_first, power_first, n_stable, n_bound,
    notes, curve)."""
    notes = []
    curve = []
    n_first = None
    bound = n_max
    n = 2
    while n <= bound:
        n2 = _n2(n, ratio)
        if test == "barnard" and (n + 1) * (n2 + 1) > exact.BARNARD_MAX_TABLES:
            notes.append(f"Barnard's power not computed beyond n = {n - 1} (table limit {exact.BARNARD_MAX_TABLES})")
            bound = n - 1
            break
        pw = _power_from_region(rejection_region(n, n2, alpha, test, alternative), p1, p2)
        curve.append((n, pw))
        if n_first is None and pw >= target:
            n_first = n
            bound = min(n_max, n + (margin if margin is not None else max(20, n // 4)))
        n += 1
    if n_first is None:
        return None, math.nan, None, bound, tuple(notes), dict(curve)
    n_stable = None
    for n_i, pw in reversed(curve):
        if pw < target:
            break
        n_stable = n_i
    if n_stable is not None and n_stable == curve[-1][0] and curve[-1][0] < bound:
        n_stable = None
    return n_first, dict(curve)[n_first], n_stable, curve[-1][0], tuple(notes), dict(curve)


def _same_as_linear(p1, p2, target, alpha=0.05, test="fisher", alternative="two-sided", ratio=1.0, n_max=2000,
                    margin=None):
    r = sample_size_two_proportions(p1, p2, target, alpha, test, alternative, ratio, n_max=n_max, margin=margin)
    first, power_first, stable, bound, notes, curve = linear_reference(p1, p2, target, alpha, test, alternative,
                                                                       ratio, n_max, margin)
    assert (r.n_first, r.n_stable, r.n_bound, r.notes) == (first, stable, bound, notes)
    if first is not None:
        assert r.power_first == power_first
    # every point the search evaluated is the scan's exact power at that n
    for n, pw in r.curve:
        if n in curve:
            assert pw == curve[n]
    return r, curve


# the studies' published rates (cialdini1975 E1 and E2, burger1986 E1), rare and common outcomes,
# effects in both directions, each with the sidedness that can detect it (and two-sided)
CASES = [(0.5, 4 / 24, "greater"), (0.5, 0.2083, "two-sided"), (0.7333, 0.4, "greater"), (0.2, 0.05, "two-sided"),
         (0.1, 0.3, "less"), (0.9, 0.7, "two-sided"), (0.6, 0.3, "greater"), (0.05, 0.2, "two-sided")]


@pytest.mark.parametrize("test", ["chi2", "fisher", "yates"])
def test_the_search_finds_the_linear_scans_n(test):
    for (p1, p2, alternative), (ratio, target) in zip(CASES, [(1.0, 0.8), (2.0, 0.9), (1.5, 0.5), (1.0, 0.95)] * 2):
        _same_as_linear(p1, p2, target, 0.05, test, alternative, ratio, n_max=200)
    # the wrong direction: never reached (a step down from n_max finds nothing)
    _same_as_linear(0.3, 0.5, 0.8, 0.05, test, "greater", 1.0, n_max=60)


def test_a_small_effect_as_the_linear_scan():
    # 50% vs 40%: n = 392 (R: pwr.2p.test(h = ES.h(.5, .4), power = .8) gives 387.3 by the normal approximation)
    r, curve = _same_as_linear(0.5, 0.4, 0.8, 0.05, "chi2", "two-sided", 1.0, n_max=500)
    assert r.n_first == 392 and len(r.curve) < len(curve) / 2


def test_a_saw_tooth_around_the_target_as_the_linear_scan():
    # pollock1998 E1's published rates (55% vs 36%), the paper's χ²: power first reaches .80 at n = 102 and
    # dips back below it before it stays
    r, curve = _same_as_linear(0.55, 0.36, 0.8, test="chi2")
    dips = [n for n in range(r.n_first, r.n_bound + 1) if curve[n] < 0.8]
    assert dips and r.n_stable == max(dips) + 1 > r.n_first
    assert all(curve[n] < 0.8 for n in range(2, r.n_first))
    assert len(r.curve) < len(curve) / 2        # the search evaluated far fewer n than the scan


def test_barnard_and_its_table_limit_as_the_linear_scan(monkeypatch):
    _same_as_linear(0.7, 0.2, 0.8, test="barnard", alternative="greater", n_max=40)
    # the table limit (160,000 tables, minutes of Barnard near it) lowered to 600: (n + 1)^2 > 600 from n = 24
    monkeypatch.setattr(exact, "BARNARD_MAX_TABLES", 600)
    r, _ = _same_as_linear(0.5, 0.3, 0.8, test="barnard", n_max=60)          # not reached below the limit
    assert r.n_first is None and r.n_bound == 23 and "table limit 600" in r.notes[0]
    r, _ = _same_as_linear(0.7333, 0.3, 0.8, test="barnard", n_max=60)       # reached, bound cut by the limit
    assert r.n_first is not None and r.n_bound == 23 < r.n_first + 20


def test_margin_and_n_max_as_the_linear_scan():
    _same_as_linear(0.5, 4 / 24, 0.8, margin=0)
    _same_as_linear(0.5, 4 / 24, 0.8, margin=50, n_max=40)
    _same_as_linear(0.5, 4 / 24, 0.99, n_max=30)       # not reached
    _same_as_linear(0.5, 4 / 24, 0.3, n_max=2)         # the smallest n_max


def test_the_first_n_is_the_kernels_exact_power():
    r = sample_size_two_proportions(0.5, 4 / 24, 0.8, test="chi2")
    assert r.power_first == power_two_proportions(0.5, 4 / 24, r.n_first, r.n_first, test="chi2").power
    below = power_two_proportions(0.5, 4 / 24, r.n_first - 1, r.n_first - 1, test="chi2").power
    assert below < 0.8 <= r.power_first
