"""Bad flags and unwritable places: one line, exit 2, nothing changed (issue 15 items 13-15)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


def _one_line_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert proc.stderr.startswith("compliance: error:"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for f in fragments:
        assert f in proc.stderr, proc.stderr


@pytest.fixture
def readonly(tmp_path):
    """A folder this process may not write into (chmod 555; root ignores modes, so sysfs for root)."""
    if os.geteuid() == 0:
        yield Path("/sys/kernel")
        return
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    yield d
    d.chmod(0o755)


@pytest.fixture
def sim_data(cli, tmp_path):
    cli("simulate", "cialdini1975", "--participants", "12", "--seed", "1", "--data-dir", "d", "--quiet", check=0)
    return tmp_path / "d"


def _tree(path):
    return {p: p.read_bytes() for p in sorted(Path(path).rglob("*")) if p.is_file()}


@pytest.mark.parametrize("args, fragment", [
    (("schedule", "cialdini1975", "--participants", "10000000", "--seed", "1", "--out", "s.csv"), "100,000"),
    (("simulate", "cialdini1975", "--participants", "10000000", "--data-dir", "d"), "100,000"),
    (("schedule", "cialdini1975", "--participants", "6", "--seed", "-5", "--out", "s.csv"), "--seed"),
    (("simulate", "cialdini1975", "--participants", "6", "--seed", "-5", "--data-dir", "d"), "--seed"),
    (("simulate", "cialdini1975", "--participants", "6", "--mode", "visual", "--time-scale", "nan",
      "--data-dir", "d"), "--time-scale"),
    (("simulate", "cialdini1975", "--participants", "6", "--time-scale", "0", "--data-dir", "d"), "--time-scale"),
    (("simulate", "cialdini1975", "--participants", "6", "--rate", "rejection_moderation=1e308",
      "--data-dir", "d"), "rejection_moderation"),
])
def test_bad_flag_is_one_line_and_writes_nothing(cli, tmp_path, args, fragment):
    """Issue 15.15 (hangs, negative seeds) and 15.14 (--rate 1e308 left a session behind)."""
    _one_line_error(cli(*args), fragment)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folders_are_one_line_errors(cli, tmp_path, readonly, sim_data):
    """Issue 15.15: PermissionError writing a schedule, a simulation, a protocol or a plot."""
    _one_line_error(cli("schedule", "cialdini1975", "--participants", "6", "--seed", "1",
                        "--out", readonly / "s.csv"), str(readonly))
    _one_line_error(cli("simulate", "cialdini1975", "--participants", "6", "--data-dir", readonly / "d"),
                    str(readonly))
    _one_line_error(cli("protocol", "cialdini1975", "--out", readonly / "p.md"), str(readonly))
    _one_line_error(cli("analyze", sim_data, "--plot", readonly / "p.png"), str(readonly))


def test_protocol_out_a_folder_is_a_one_line_error(cli, tmp_path):
    (tmp_path / "dir").mkdir()
    _one_line_error(cli("protocol", "cialdini1975", "--out", "dir"), "dir", "folder")
    _one_line_error(cli("protocol", "cialdini1975", "--out", "dir", "--force"), "dir", "folder")
    assert list((tmp_path / "dir").iterdir()) == []


def test_empty_hash_file_is_a_one_line_error_for_run(cli, tmp_path):
    cli("schedule", "cialdini1975", "--participants", "6", "--seed", "1", "--out", "s.csv", check=0)
    (tmp_path / "s.csv.sha256").write_text("")
    _one_line_error(cli("run", "cialdini1975", "--schedule", "s.csv", "--site", "S1", "--experimenter", "E1",
                        "--data-dir", "d"), "s.csv.sha256")
    assert not (tmp_path / "d").exists()


def test_protocol_force_replaces_only_a_generated_protocol(cli, tmp_path, sim_data):
    """Issue 15.13: `protocol --out X --force` replaced session CSVs, schedules, sidecars, the ledger."""
    cli("schedule", "cialdini1975", "--participants", "6", "--seed", "1", "--out", "s.csv", check=0)
    victims = [*sim_data.iterdir(), *tmp_path.glob("s.csv*")]
    before = {p: p.read_bytes() for p in victims}
    for p in victims:
        _one_line_error(cli("protocol", "cialdini1975", "--out", p, "--force"), p.name, "generated")
    assert {p: p.read_bytes() for p in victims} == before
    # a protocol it wrote is replaced with --force (and only with it)
    cli("protocol", "regan1971", "--out", "p.md", check=0)
    _one_line_error(cli("protocol", "cialdini1975", "--out", "p.md"), "--force")
    assert "regan1971" in (tmp_path / "p.md").read_text()
    cli("protocol", "cialdini1975", "--out", "p.md", "--force", check=0)
    assert (tmp_path / "p.md").read_text() == cli("protocol", "cialdini1975", check=0).stdout


def test_plot_refuses_an_existing_file_without_force(cli, tmp_path, sim_data):
    """Issue 15.13: `analyze --plot` replaced existing images without --force."""
    cli("analyze", sim_data, "--plot", "p.png", check=0)
    png = (tmp_path / "p.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    (tmp_path / "p.png").write_bytes(png + b"mine")
    _one_line_error(cli("analyze", sim_data, "--plot", "p.png"), "p.png", "--force")
    assert (tmp_path / "p.png").read_bytes() == png + b"mine"
    cli("analyze", sim_data, "--plot", "p.png", "--force", check=0)
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")
    # --force replaces an earlier plot, never a data file
    (csv_path,) = sim_data.glob("*_data.csv")
    before = csv_path.read_bytes()
    _one_line_error(cli("analyze", sim_data, "--plot", csv_path, "--force"), csv_path.name)
    assert csv_path.read_bytes() == before
