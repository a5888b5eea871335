"""analysis.cli: analyze and reproduce, text, JSON, plot and errors."""
import argparse
import json
import subprocess
import sys

import pytest

from analysis import cli, rows_from_counts, write_session_csv

REQUIRED_TOP = {"paradigm", "experiment", "conditions", "contrasts"}
REQUIRED_COND = {"condition", "n", "complied", "rate", "ci_low", "ci_high"}
REQUIRED_CONTRAST = {"treatment", "control", "n_treatment", "n_control", "risk_difference", "rd_ci_low",
                     "rd_ci_high", "odds_ratio", "or_ci_low", "or_ci_high", "cohens_h", "chi2", "chi2_p", "fisher_p"}


@pytest.fixture
def data(tmp_path):
    counts = {"rejection_moderation": (12, 24), "exposure_control": (6, 24), "smaller_request_only": (4, 24)}
    rows = rows_from_counts("cialdini1975", 1, counts, site="S1")
    rows[0]["data_consent"] = "0"
    write_session_csv(tmp_path / "site-S1" / "study-cialdini1975_exp-1_site-S1_session-1_data.csv", rows)
    return tmp_path


def test_analyze_json(data, capsys):
    assert cli.main(["analyze", str(data), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert REQUIRED_TOP <= set(d)
    assert all(REQUIRED_COND <= set(c) for c in d["conditions"])
    assert all(REQUIRED_CONTRAST <= set(k) for k in d["contrasts"])
    rm = [c for c in d["conditions"] if c["condition"] == "rejection_moderation"][0]
    assert (rm["n"], rm["complied"]) == (23, 11)   # one withdrawn participant (a complier) left out
    assert d["n_withdrawn"] == 1


def test_analyze_json_is_a_list_for_several_experiments(data, capsys):
    rows = rows_from_counts("cialdini1975", 2, {"rejection_moderation": (5, 10), "two_requester_control": (1, 10),
                                                "smaller_request_only": (2, 10)}, site="S2")
    write_session_csv(data / "e2_data.csv", rows)
    cli.main(["analyze", str(data), "--json"])
    d = json.loads(capsys.readouterr().out)
    assert isinstance(d, list) and sorted(x["experiment"] for x in d) == [1, 2]


def test_analyze_text_and_plot(data, tmp_path, capsys):
    png = tmp_path / "out" / "rates.png"
    assert cli.main(["analyze", str(data), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "χ²(1, N = 71)" in out and "withdrawn 1" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image as mpimg
    img = mpimg.imread(png)
    assert img.shape[0] > 300 and img.shape[1] > 500
    assert img[..., :3].std() > 0.05          # not a blank canvas


def test_reproduce_json(capsys):
    assert cli.main(["reproduce", "cialdini1975", "--experiment", "1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["study"] == "cialdini1975" and d["experiment"] == 1
    chi = [c for c in d["checks"] if c["statistic"] == "chi2"]
    assert len(chi) == 2 and all(c["match"] is True for c in chi)


def test_errors_are_one_line_exit_2(tmp_path, capsys):
    p = tmp_path / "x_data.csv"
    p.write_text("")
    assert cli.main(["analyze", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and str(p) in err
    assert cli.main(["reproduce", "nobody"]) == 2


def test_add_subcommands_on_a_foreign_parser():
    parser = argparse.ArgumentParser(prog="compliance")
    sub = parser.add_subparsers(dest="command")
    cli.add_subcommands(sub)
    args = parser.parse_args(["reproduce", "burger1986", "--json"])
    assert args.handler is cli.cmd_reproduce and args.json and args.experiment is None
    args = parser.parse_args(["analyze", "a", "b", "--plot", "p.png"])
    assert args.handler is cli.cmd_analyze and args.paths == ["a", "b"]


def test_module_entry_point(data):
    proc = subprocess.run([sys.executable, "-m", "analysis.cli", "reproduce", "burger1986", "--experiment", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "45%" in proc.stdout and "mismatch" in proc.stdout
