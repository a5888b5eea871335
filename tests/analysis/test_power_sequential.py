"""Group-sequential designs (issue 24): z boundaries against rpact, exact alpha against plain enumeration,
and a simulated sequential study that stops where its seed says.

The boundaries were computed in R 4.x with rpact (CI has no R; the call and its output are recorded here):

    library(rpact)
    for (t in c("asOF","asP")) for (k in 2:5) for (s in 1:2) {
      d <- getDesignGroupSequential(kMax = k, alpha = 0.05, sided = s, typeOfDesign = t)
      cat(t, k, s, sprintf("%.10f", d$criticalValues), "\\n")
      cat("  spent", sprintf("%.10f", d$alphaSpent), "\\n")
    }
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from analysis.errors import AnalysisError
from analysis.power.sequential import (NUISANCE_GRID, boundaries, exact_sequential, interim_look,
                                       sequential_sample_size, spent)

# rpact output (criticalValues; alphaSpent), verbatim
RPACT = """
asOF 2 1 2.5379876034 1.6621065810 | 0.0055745967 0.0500000000
asOF 2 2 2.9625880427 1.9685956463 | 0.0030506455 0.0499999900
asOF 3 1 3.2001019716 2.1408152357 1.6948119625 | 0.0006868949 0.0163746666 0.0500000000
asOF 3 2 3.7103028733 2.5114274845 1.9930474833 | 0.0002070114 0.0120967782 0.0499999900
asOF 4 1 3.7495518372 2.5399425700 2.0160698518 1.7201770768 | 0.0000885754 0.0055745967 0.0236251213 0.0499999900
asOF 4 2 4.3326336460 2.9631315991 2.3590442911 2.0140901431 | 0.0000147336 0.0030506455 0.0192986496 0.0499999900
asOF 5 1 4.2291950593 2.8881365433 2.2980902866 1.9618214741 1.7397045121 | 0.0000117264 0.0019419130 0.0113964184 0.0284296305 0.0500000000
asOF 5 2 4.8768849488 3.3570119217 2.6802800670 2.2898167744 2.0310320482 | 0.0000010777 0.0007883035 0.0076161266 0.0244235803 0.0499999900
asP 2 1 1.8662138601 1.8848753199 | 0.0310057253 0.0499999900
asP 2 2 2.1569992183 2.2009769604 | 0.0310057253 0.0499999900
asP 3 1 2.0020138448 1.9937968180 1.9803042188 | 0.0226416213 0.0381691256 0.0500000000
asP 3 2 2.2794282389 2.2949111387 2.2959383503 | 0.0226416213 0.0381691255 0.0500000000
asP 4 1 2.0999026916 2.0767118111 2.0531628057 2.0347686633 | 0.0178687010 0.0310057256 0.0413994471 0.0500000000
asP 4 2 2.3683277035 2.3675242886 2.3581677452 2.3500295356 | 0.0178687010 0.0310057256 0.0413994468 0.0499999900
asP 5 1 2.1762114531 2.1437477097 2.1132852659 2.0895991996 2.0709984228 | 0.0147697265 0.0261568583 0.0354256535 0.0432419864 0.0499999900
asP 5 2 2.4379766881 2.4268138632 2.4101938382 2.3966454044 2.3859845623 | 0.0147697265 0.0261568580 0.0354256533 0.0432419861 0.0500000000
"""
_KIND = {"asOF": "obrien-fleming", "asP": "pocock"}


def _rpact():
    for line in RPACT.strip().splitlines():
        head, spent_ = line.split("|")
        kind, k, sided, *crit = head.split()
        yield _KIND[kind], int(k), "two-sided" if sided == "2" else "greater", \
            [float(c) for c in crit], [float(a) for a in spent_.split()]


@pytest.mark.parametrize("spending,looks,alternative,crit,alpha_spent", list(_rpact()))
def test_z_boundaries_agree_with_rpact(spending, looks, alternative, crit, alpha_spent):
    d = boundaries(looks, 0.05, spending, alternative)
    assert d.critical == pytest.approx(crit, abs=1e-5)
    # rpact reports the last look's cumulative alpha as 0.0499999900 (its tolerance): compare to 1e-7
    assert d.alpha_spent == pytest.approx(alpha_spent, abs=1e-7)
    assert spent(np.arange(1, looks + 1) / looks, 0.05, spending, alternative) == pytest.approx(alpha_spent, abs=1e-7)


def test_one_look_is_the_fixed_design():
    assert boundaries(1, 0.05).critical[0] == pytest.approx(1.959963985, abs=1e-8)


# --------------------------------------------------------------------------- #
def _z(a, n1, c, n2):
    """Signed Pearson z of one table, in plain Python (None where undefined)."""
    m, N = a + c, n1 + n2
    if m == 0 or m == N:
        return None
    x2 = N * (a * (n2 - c) - c * (n1 - a)) ** 2 / (n1 * n2 * m * (N - m))
    return math.copysign(math.sqrt(x2), a / n1 - c / n2)


def _pmf(k, n, p):
    return math.comb(n, k) * p ** k * (1 - p) ** (n - k)


def _plain_reject_probability(plan, pi1, pi2):
    """P(reject at or before each look) by walking every path of increments, in plain Python."""
    n1s, n2s, crit = plan.n1, plan.n2, plan.critical_exact
    incs1 = [n1s[0]] + [b - a for a, b in zip(n1s, n1s[1:])]
    incs2 = [n2s[0]] + [b - a for a, b in zip(n2s, n2s[1:])]
    cum = [0.0] * len(n1s)
    for path in itertools.product(*[range(i + 1) for i in incs1], *[range(i + 1) for i in incs2]):
        K = len(n1s)
        d1, d2 = path[:K], path[K:]
        prob = 1.0
        for a, n in zip(d1, incs1):
            prob *= _pmf(a, n, pi1)
        for c, n in zip(d2, incs2):
            prob *= _pmf(c, n, pi2)
        x1 = x2 = 0
        for k in range(K):
            x1, x2 = x1 + d1[k], x2 + d2[k]
            z = _z(x1, n1s[k], x2, n2s[k])
            stat = None if z is None else (abs(z) if plan.design.alternative == "two-sided" else z)
            if stat is not None and stat >= crit[k] - 1e-12:
                for j in range(k, K):
                    cum[j] += prob
                break
    return cum


@pytest.mark.parametrize("n1,n2,looks,spending,alternative", [
    (6, 6, 2, "obrien-fleming", "two-sided"),
    (4, 8, 2, "pocock", "two-sided"),
    (6, 6, 3, "pocock", "greater"),
])
def test_exact_alpha_agrees_with_plain_enumeration_and_never_exceeds_spending(n1, n2, looks, spending, alternative):
    plan = exact_sequential(n1, n2, looks, 0.05, spending, alternative, p1=0.7, p2=0.3)
    grid = np.linspace(0.005, 0.995, NUISANCE_GRID)
    worst = [0.0] * looks
    for pi in grid[::7].tolist():
        cum = _plain_reject_probability(plan, pi, pi)
        worst = [max(w, c) for w, c in zip(worst, cum)]
        assert all(c <= s + 1e-12 for c, s in zip(cum, plan.design.alpha_spent))
    # the reported exact alpha is the maximum over the full grid: at least the plain maximum on its subgrid
    assert all(a >= w - 1e-12 for a, w in zip(plan.alpha_exact, worst))
    assert all(a <= s + 1e-12 for a, s in zip(plan.alpha_exact, plan.design.alpha_spent))
    full = [max(_plain_reject_probability(plan, pi, pi)[k] for pi in grid) for k in range(looks)]
    assert plan.alpha_exact == pytest.approx(full, abs=1e-12)
    # power under H1, plain
    assert plan.power == pytest.approx(_plain_reject_probability(plan, 0.7, 0.3)[-1], abs=1e-12)


def test_expected_n_is_between_the_first_and_last_look():
    plan = exact_sequential(30, 30, 3, p1=0.6, p2=0.2)
    assert plan.n1 == (10, 20, 30) and plan.max_n == 60
    assert 20 <= plan.expected_n_h1 < plan.expected_n_h0 <= 60
    assert sum(plan.stop_h1) == pytest.approx(plan.power)


def test_sequential_sample_size_is_the_first_n_reaching_the_target():
    r = sequential_sample_size(0.6, 0.2, 0.8, looks=2, n_start=10)
    assert r.power >= 0.8
    before = exact_sequential(r.n1[-1] - 1, r.n2[-1] - 1, 2, p1=0.6, p2=0.2)
    assert before.power < 0.8


def test_a_simulated_sequential_study_stops_at_the_look_its_seed_implies():
    plan = exact_sequential(60, 60, 3, p1=0.55, p2=0.2)
    for seed in range(8):
        rng = np.random.default_rng(seed)
        # the data, look by look: binomial increments drawn from the seed
        inc1 = [rng.binomial(n, 0.55) for n in np.diff((0,) + plan.n1)]
        inc2 = [rng.binomial(n, 0.2) for n in np.diff((0,) + plan.n2)]
        x1, x2 = np.cumsum(inc1), np.cumsum(inc2)
        # where the seed says it stops, found in plain Python
        expected = next((k for k in range(3)
                         if abs(_z(int(x1[k]), plan.n1[k], int(x2[k]), plan.n2[k]) or 0) >= plan.critical_exact[k]),
                        2)
        for k in range(3):
            look = interim_look(plan, int(x1[k]), plan.n1[k], int(x2[k]), plan.n2[k])
            assert look.look == k + 1
            if k < expected:
                assert look.decision == "continue"
            elif k == expected:
                assert look.decision.startswith("stop")
                break


def test_bad_looks_and_spending_are_one_line_errors():
    with pytest.raises(AnalysisError, match="--looks"):
        boundaries(0)
    with pytest.raises(AnalysisError, match="--spending"):
        boundaries(2, spending="haybittle")
    with pytest.raises(AnalysisError, match="new participants"):
        exact_sequential(2, 2, 5)
