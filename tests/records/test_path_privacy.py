"""Issue 22.8: a report and an export are shared files: the data path as typed (an absolute path
carries a user name) never goes into them; paths are kept relative to the data folder."""
from __future__ import annotations

import contextlib
import io
import json

import pytest

import paradigms
from paradigms.cli import main

SECRET = "JaneDoeHome"   # stands for the user name an absolute path carries


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from paradigms.engine.sessions import simulate

    d = tmp_path_factory.mktemp("p") / SECRET / "lab" / "data"
    simulate(paradigms.get("cialdini1975"), 1, 12, seed=3, data_dir=d / "site1")
    return d.resolve()


def test_report_never_carries_the_absolute_data_path(data, tmp_path):
    page = tmp_path / "r.html"
    status, _, err = run("report", data, "--out", page)
    assert status == 0, err
    html = page.read_text(encoding="utf-8")
    assert SECRET not in html and str(data) not in html
    assert "compliance report data" in html      # the command is still shown, with the folder's own name


def test_export_rows_and_metadata_carry_paths_relative_to_the_data_folder(data, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "x_data.parquet"
    status, _, err = run("export", data, "--parquet", out)
    assert status == 0, err
    assert SECRET.encode() not in out.read_bytes()            # nowhere in the file: rows, schema, metadata
    table = pq.read_table(out)
    files = set(table.column("source_file").to_pylist())
    assert files and all(f.startswith("data/site1/study-cialdini1975_") for f in files), files
    meta = json.loads(table.schema.metadata[b"compliance"])
    assert all(f.startswith("data/site1/") for f in meta["files"])
    assert all(r["source_file"].startswith("data/site1/") for r in meta["report"])
