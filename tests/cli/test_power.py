"""``compliance power``: the command line of issue 9, its JSON and its errors."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analysis.power.exact import power_two_proportions, sample_size_two_proportions


@pytest.fixture(autouse=True)
def _capsys(capsys):
    global _CAP
    _CAP = capsys


def run(*args, check=True):
    """``compliance power ARGS`` in-process (the same parser and error handling as the console script)."""
    from paradigms.cli import main

    code = main(["power", *args])
    cap = _CAP.readouterr()
    r = subprocess.CompletedProcess(args, code, cap.out, cap.err)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def js(*args):
    return json.loads(run(*args, "--json").stdout)


def test_the_console_script_exits_2_with_one_line():
    r = subprocess.run([sys.executable, "-m", "paradigms.cli", "power", "--rates", "0.5", "1.5", "--n", "10"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "compliance: error: --rates P2 = 1.5 is outside (0, 1): a rate must be strictly between 0 and 1"]


def test_original_design_power_per_confirmatory_contrast_with_source():
    d = js("cialdini1975", "--experiment", "1")
    rows = {c["label"]: c for c in d["contrasts"]}
    main = rows["door-in-the-face vs the two controls combined (the paper's test)"]
    assert main["test"] == "chi2"                                   # the paper's chi-square
    assert (main["n1"], main["n2"]) == (24, 48) and main["p2"] == pytest.approx(10 / 48)
    assert main["power"][0]["power"] == pytest.approx(
        power_two_proportions(0.5, 10 / 48, 24, 48, test="chi2").power)
    small = rows["door-in-the-face vs smaller request only"]
    # issue 21: a contrast the paper did not test is tested as the paper tested its others (Pearson's χ²,
    # which reproduces its χ² = 6.42 and χ² = .50), one design decision shared with replicate and report
    assert small["test"] == "chi2" and "paper's test" in small["test_source"] and "Table 1" in small["source"]
    # R 4.x, exact power of chisq.test(correct = FALSE) by enumeration:
    #   pw <- function(p1,p2,n1,n2){s<-0; for(a in 0:n1) for(c in 0:n2){ m<-a+c; if(m==0||m==n1+n2) next
    #     p <- suppressWarnings(chisq.test(matrix(c(a,n1-a,c,n2-c),2,byrow=TRUE),correct=FALSE)$p.value)
    #     if(p<=0.05) s<-s+dbinom(a,n1,p1)*dbinom(c,n2,p2)}; s}
    #   pw(0.5,4/24,24,24)   -> 0.715656751987
    assert small["power"][0]["power"] == pytest.approx(0.715656751987, abs=1e-9)
    assert small["power"][0]["power_normal"] == pytest.approx(0.714947669222166, abs=1e-9)


def test_target_gives_first_and_stable_n():
    d = js("cialdini1975", "--experiment", "1", "--target", "0.80")
    small = [c for c in d["contrasts"] if c["label"] == "door-in-the-face vs smaller request only"][0]
    ref = sample_size_two_proportions(0.5, 4 / 24, 0.80, test="chi2")
    assert small["sample_size"]["n_first"] == ref.n_first and small["sample_size"]["n_stable"] == ref.n_stable


def test_rates_and_n_and_plot(tmp_path):
    out = tmp_path / "power.png"
    d = js("--rates", "0.50", "0.167", "--n", "24", "50", "--plot", str(out))
    assert [p["n1"] for p in d["contrasts"][0]["power"]] == [24, 50]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # an existing plot is not replaced without --force
    r = run("--rates", "0.50", "0.167", "--n", "24", "--plot", str(out), check=False)
    assert r.returncode == 2 and "already exists" in r.stderr


def test_rates_target_one_sided_text():
    r = run("--rates", "0.50", "0.167", "--target", "0.95", "--test", "fisher", "--alternative", "greater")
    assert "first reached at n =" in r.stdout and "stays at or above it from n =" in r.stdout
    assert "one-sided" in r.stdout


def test_d33_of_the_original_design():
    d = js("cialdini1975", "--experiment", "1", "--d33")
    small = [c for c in d["contrasts"] if c["label"] == "door-in-the-face vs smaller request only"][0]
    assert small["d33"][0]["power"] == pytest.approx(1 / 3, abs=1e-6)
    assert small["d33"][0]["p_control"] == pytest.approx(4 / 24)


def test_rates_known_but_n_unknown_is_said_and_the_missing_rate_not_computable():
    d = js("cialdini1975", "--experiment", "2")
    a, b = d["contrasts"]
    assert a["power"] == [] and any("original n unknown" in n for n in a["notes"])
    assert b["reason"].startswith("not computable")


@pytest.mark.parametrize("args,word", [
    (("--rates", "1.2", "0.1", "--n", "10"), "1.2"),
    (("--rates", "0.5", "0", "--n", "10"), "P2 = 0"),
    (("--rates", "0.5", "0.2", "--n", "1"), "--n = 1"),
    (("--rates", "0.5", "0.2", "--n", "10", "--alpha", "1.5"), "--alpha = 1.5"),
    (("--rates", "0.5", "0.2", "--target", "1"), "--target = 1"),
    (("--rates", "0.5", "0.2"), "--n"),
    (("cialdini1975", "--experiment", "3"), "not published"),
    (("pollock1998",), "cell sizes"),
    (("nosuchstudy",), "nosuchstudy"),
])
def test_bad_input_is_one_line_exit_2(args, word):
    r = run(*args, check=False)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and lines[0].startswith("compliance: error:")


def test_simulated_plans_from_the_command_line():
    d = js("pollock1998", "--n", "12", "--simulations", "3", "--seed", "5")
    sim = d["simulation"]["power"][0]
    assert sim["n_per_condition"] == 12 and sim["simulations"] == 3
    assert sim["tests"][0]["name"].startswith("technique × price interaction")
    # the confirmatory per-cell contrast (55% vs 36%, n unknown) is still listed, with its source
    assert d["contrasts"][0]["p1"] == pytest.approx(0.55) and d["contrasts"][0]["power"][0]["n1"] == 12
    t = run("regan1971", "--n", "8", "--simulations", "2").stdout
    assert "Simulated power" in t and "negative-binomial rate ratio" in t and "Monte-Carlo SE" in t


def test_looks_give_rpact_boundaries_and_exact_alpha_in_the_json():
    """--looks 2 --spending obrien-fleming: rpact getDesignGroupSequential(kMax = 2, alpha = 0.05, sided = 2,
    typeOfDesign = "asOF") gives criticalValues 2.9625880427 1.9685956463 (tests/analysis/test_power_sequential.py)."""
    from analysis.power.sequential import exact_sequential

    d = js("--rates", "0.5", "0.2", "--n", "30", "--looks", "2")
    s = d["contrasts"][0]["sequential"][0]
    assert s["boundaries"]["critical_z"] == pytest.approx([2.9625880427, 1.9685956463], abs=1e-5)
    assert all(a <= b + 1e-12 for a, b in zip(s["alpha_exact"], s["boundaries"]["alpha_spent"]))
    ref = exact_sequential(30, 30, 2, p1=0.5, p2=0.2)
    assert s["power"] == pytest.approx(ref.power) and s["max_n"] == 60
    assert s["expected_n_h1"] == pytest.approx(ref.expected_n_h1)
    # the exact power of the sequential design is below the fixed χ² design's (some alpha spent early)
    assert s["power"] < power_two_proportions(0.5, 0.2, 30, 30, test="chi2").power
    assert any("Pearson" in n for n in d["contrasts"][0]["notes"])     # --rates defaults to Fisher: said


def test_the_test_is_named_once_per_contrast_not_on_every_power_line():
    # issue 26 item 4: the "test:" line names the test, sidedness and α; the power and sample-size lines do not
    r = run("cialdini1975", "--n", "20", "30", "--target", "0.8")
    name = "Pearson's χ² test (no continuity correction)"
    lines = r.stdout.splitlines()
    tests = [ln for ln in lines if ln.startswith("  test: ")]
    power = [ln for ln in lines if ln.startswith("  power with n = ")]
    sizes = [ln for ln in lines if ln.startswith("  target power .80: ")]
    assert len(tests) == 3 and all(name in ln and "two-sided" in ln and "α = .05" in ln for ln in tests)
    assert len(power) == 6 and len(sizes) == 3
    assert not any(name in ln or "two-sided" in ln or "α =" in ln for ln in power + sizes)
    assert sum(name in ln for ln in lines) == 3        # once per contrast
    # the numbers are those of the API (the same line as the result's, without the test)
    p = power_two_proportions(0.5, 10 / 48, 20, 40, test="chi2")
    assert f"  {p.line()}" in lines and str(p).endswith(p.line()[len("power with "):])
