"""Said the same way everywhere (issue 21.6): help texts, the count of criteria, SIMULATED, several sites."""
from __future__ import annotations

import json
import re

import pytest

import paradigms
from analysis.replication import CRITERIA
from analysis.replication.criteria import CRITERIA as CRITERIA_OF_THE_TABLE
from tests.conftest import ROOT

COMMANDS = ("analyze", "reproduce", "replicate", "power", "pool", "report", "verify", "withdraw", "export")


def test_no_help_prints_a_doubled_percent(cli):
    """argparse %-formats an argument's help but prints a description as written: a "%%" written
    for the one must never reach the screen through the other."""
    for cmd in ("--help",) + tuple(f"{c} --help" for c in COMMANDS):
        out = cli(*cmd.split(), check=0).stdout
        assert "%%" not in out, f"compliance {cmd}: {out[out.index('%%') - 40:out.index('%%') + 10]!r}"
    assert "95% CI" in cli("replicate", "--help", check=0).stdout.replace("\n", " ")


def test_one_count_of_criteria_everywhere(cli):
    n = len(CRITERIA)
    assert CRITERIA_OF_THE_TABLE is CRITERIA
    top = " ".join(cli("--help", check=0).stdout.split())
    assert f"side by side, {n} criteria" in top and "five criteria" not in top
    assert f"({n}: " in " ".join(cli("replicate", "--help", check=0).stdout.split())
    from analysis import replicate
    r = replicate(study="cialdini1975", experiment=1, counts={c: (30, 60) for c in
                                                            paradigms.get("cialdini1975").experiment(1).condition_names})
    assert len(r.table().index) == n + 2  # original, replication, then one row per criterion
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| criterion | the replication succeeded when |"):]
    rows = [ln for ln in table.split("\n\n")[0].splitlines()[2:] if ln.startswith("|")]
    assert len(rows) == n


@pytest.fixture(scope="module")
def two_simulated_sites(tmp_path_factory):
    from paradigms.engine.sessions import simulate

    d = tmp_path_factory.mktemp("sites")
    for site, seed in (("A", 1), ("B", 2)):
        simulate(paradigms.get("cialdini1975"), 1, 48, seed=seed, data_dir=d / site, site=site)
    return d


def test_replicate_on_simulated_sites_says_simulated_and_points_to_pool(cli, two_simulated_sites, tmp_path):
    text = cli("replicate", two_simulated_sites, check=0).stdout
    assert text.splitlines()[0].startswith("SIMULATED DATA")
    assert "2 sites (A, B) added into one sample" in text and "compliance pool" in text
    js = json.loads(cli("replicate", two_simulated_sites, "--json", check=0).stdout)
    assert js["simulated"] is True and js["origin_label"].startswith("SIMULATED DATA") and js["sites"] == ["A", "B"]
    assert any("compliance pool" in n for n in js["notes"])
    for key in ("study", "experiment", "replication", "contrasts", "notes", "table", "whole_study"):
        assert key in js  # every old key kept
    # the plot's title says it too
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis import replicate
    from analysis.plots.replication import plot_replication
    titles = []
    orig = plt.Figure.suptitle

    def spy(self, t, **kw):
        titles.append(t)
        return orig(self, t, **kw)

    plt.Figure.suptitle = spy
    try:
        plot_replication(replicate(two_simulated_sites), tmp_path / "v.png")
    finally:
        plt.Figure.suptitle = orig
    assert titles and titles[0].startswith("SIMULATED DATA")
    # counts typed in are not simulated: no label
    assert not re.match("SIMULATED", cli("replicate", "cialdini1975", "--experiment", "1", "--counts",
                                         "rejection_moderation=20/60", "exposure_control=19/60",
                                         "smaller_request_only=18/60", check=0).stdout)
