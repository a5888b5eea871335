"""Issue 14.2: the loader reads Parquet as well as CSV, and ``compliance export`` writes the
validated, pooled table (one file, or partitioned by site) that loads back unchanged."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import paradigms
from analysis import DataValidationError, load_sessions


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    from paradigms.engine.sessions import simulate
    d = tmp_path_factory.mktemp("sessions")
    for i, site in enumerate(("S1", "S2"), start=1):
        simulate(paradigms.get("cialdini1975"), 1, 24, seed=i, data_dir=d / site, site=site)
    # one participant withdrawn in the session, one excluded
    f = sorted((d / "S1").glob("*_data.csv"))[0]
    lines = f.read_text(encoding="utf-8").splitlines()
    h = lines[0].split(",")
    row = lines[1].split(",")
    row[h.index("data_consent")] = "0"
    lines[1] = ",".join(row)
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    meta = json.loads(f.with_suffix(".json").read_text())
    meta.pop("csv_sha256", None)
    f.with_suffix(".json").write_text(json.dumps(meta))
    return d


@pytest.mark.parametrize("partition", [None, "site"])
def test_export_then_load_gives_the_same_frame(sessions, tmp_path, cli, partition):
    out = tmp_path / ("pooled_data.parquet" if partition is None else "pooled")
    args = ["export", sessions, "--parquet", out, "--json"] + (["--partition-by", partition] if partition else [])
    summary = json.loads(cli(*args, check=0).stdout)
    before = load_sessions(sessions)
    assert summary["rows"] == len(before.data) == 47 and summary["withdrawn_not_written"] == 1
    if partition:
        assert sorted(p.parent.name for p in out.rglob("*_data.parquet")) == ["site=S1", "site=S2"]
    after = load_sessions(out)
    # the export names each file relative to the data folder, never by the path as typed (issue 22.8)
    public = {f: f"{sessions.name}/{Path(f).relative_to(sessions).as_posix()}" for f in before.files}
    for frame in (before.data, before.report):
        frame["source_file"] = frame["source_file"].astype(str).map(public)
    pd.testing.assert_frame_equal(before.data, after.data, check_dtype=False)
    pd.testing.assert_frame_equal(before.report, after.report, check_dtype=False)
    assert after.origin_of("cialdini1975", 1) == ("simulated",)
    # the withdrawn participant's data were never written
    assert before.report.iloc[0]["participant_id"] not in set(pd.read_parquet(out)["participant_id"])


def test_export_refuses_an_existing_file_and_replaces_only_its_own(sessions, tmp_path, cli):
    out = tmp_path / "x_data.parquet"
    out.write_bytes(b"not mine")
    proc = cli("export", sessions, "--parquet", out, check=None)
    assert proc.returncode == 2 and "exists" in proc.stderr and "\n" not in proc.stderr.strip()
    proc = cli("export", sessions, "--parquet", out, "--force", check=None)
    assert proc.returncode == 2 and "not written by 'compliance export'" in proc.stderr
    assert out.read_bytes() == b"not mine"
    out.unlink()
    cli("export", sessions, "--parquet", out, check=0)
    cli("export", sessions, "--parquet", out, "--force", check=0)     # its own: replaced
    assert len(load_sessions(out).data) == 47


def test_a_bad_file_is_refused_and_nothing_is_written(sessions, tmp_path, cli):
    import shutil
    d = tmp_path / "d"
    shutil.copytree(sessions, d)
    f = sorted(d.rglob("*_data.csv"))[0]
    lines = f.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",rejection_moderation,", ",nonsense,").replace(",exposure_control,", ",nonsense,") \
        .replace(",smaller_request_only,", ",nonsense,")
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "o_data.parquet"
    proc = cli("export", d, "--parquet", out, check=None)
    assert proc.returncode == 2 and str(f) in proc.stderr and "line 4 (data row 3)" in proc.stderr
    assert "'condition'" in proc.stderr and "\n" not in proc.stderr.strip()
    assert not out.exists() and not list(tmp_path.glob(".o_data*"))


def test_a_parquet_session_file_is_validated_like_a_csv(sessions, tmp_path):
    df = pd.read_csv(sorted(sessions.rglob("*_data.csv"))[1], dtype=str, keep_default_na=False)
    df.loc[4, "complied"] = "7"
    p = tmp_path / "s_data.parquet"
    df.to_parquet(p, index=False)
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    msg = str(e.value)
    assert "\n" not in msg and str(p) in msg and "data row 5" in msg and "'complied'" in msg and "not allowed" in msg


def test_a_damaged_parquet_file_is_one_line(tmp_path):
    p = tmp_path / "s_data.parquet"
    p.write_bytes(b"PAR1" + b"\x00" * 50)
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    assert str(p) in str(e.value) and "\n" not in str(e.value) and "Parquet" in str(e.value)
