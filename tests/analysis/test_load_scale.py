"""Issue 14, parts 2-3 at a small scale: the P2 data set's generator writes valid sessions,
pooled checks find the first problem in file order, and at the P2 sample sizes
``compliance analyze`` finishes with Barnard's test not computed (and says why)."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from analysis import DataValidationError, load_sessions  # noqa: E402
from benchmarks.make_big_dataset import make  # noqa: E402


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    d = tmp_path_factory.mktemp("big")
    make(d, rows=3300, files=6, seed=3)
    return d


def test_the_generated_data_set_is_valid_and_as_described(big):
    loaded = load_sessions(big)
    n_withdrawn = int((loaded.report["status"] == "withdrawn").sum())
    assert len(loaded.files) == 6 and len(loaded.data) + n_withdrawn == 3300
    assert set(loaded.report["status"]) == {"excluded", "withdrawn"}
    assert loaded.origin_of("cialdini1975", 1) == ("simulated",)
    assert loaded.data["participant_id"].is_unique


def test_the_generated_sessions_verify_with_their_journals_and_record_chain(big, cli):
    """A journal line per row and the close entries on the record chain, as the session store
    writes them: 'compliance verify' (journals read against the CSVs) finds nothing wrong."""
    js = json.loads(cli("verify", big, "--json", check=0).stdout)
    assert js["ok"] and js["n_sessions"] == 6 and js["n_audit_logs"] == 1 and not js["discrepancies"]
    log = [json.loads(x) for x in (big / "audit_log.jsonl").read_text().splitlines()]
    assert [e["action"] for e in log] == ["close"] * 6
    for f in sorted(big.glob("*_data.csv")):
        rows = f.read_text().splitlines()[1:]
        journal = [json.loads(x) for x in f.with_name(f.name.replace("_data.csv", "_events.jsonl")).read_text()
                   .splitlines()]
        assert [(j["event"], j["participant_id"], str(j["slot"])) for j in journal] == \
            [("row_written", r.split(",")[0], r.split(",")[6]) for r in rows]


def test_analyze_at_this_size_does_not_compute_barnard_and_says_why(big, cli):
    # ~1,100 vs ~2,200 participants per contrast: (n1 + 1)(n2 + 1) > 1,000,000 tables, the limit
    # the generator closes each session as the store does (journal, hashes, record chain): the
    # tamper-evidence gate lets them through without --accept-unverified
    js = json.loads(cli("analyze", big, "--json", check=0).stdout)
    assert js["unverified"] == []
    contrasts = js["contrasts"]
    assert contrasts and all(c["barnard_p"] is None for c in contrasts)
    assert all(any("Barnard's exact test not computed" in n and "tables to enumerate" in n for n in c["notes"])
               for c in contrasts)
    assert all(c["chi2_p"] is not None and math.isfinite(c["chi2_p"]) for c in contrasts)


def test_the_first_problem_in_file_order_is_reported_whatever_its_kind(big, tmp_path):
    """Pooled, each check finds its own first offending row; the one reported is in the earliest
    file, as if the files were checked one after the other."""
    import shutil
    d = tmp_path / "d"
    shutil.copytree(big, d)
    files = sorted(d.glob("*_data.csv"))
    for f in files:
        f.with_suffix(".json").write_text(json.dumps({k: v for k, v in json.loads(
            f.with_suffix(".json").read_text()).items() if k != "csv_sha256"}))

    def edit(f, line_no, column, value):
        lines = f.read_text().split("\n")
        h = lines[0].split(",")
        cells = lines[line_no - 1].split(",")
        cells[h.index(column)] = value
        lines[line_no - 1] = ",".join(cells)
        f.write_text("\n".join(lines))

    edit(files[4], 3, "complied", "yes")                        # a cell error, in a later file
    edit(files[1], 7, "t_end", "2001-01-01T00:00:00+00:00")     # a column check (t_end < t_start), earlier
    with pytest.raises(DataValidationError) as e:
        load_sessions(d)
    assert str(files[1]) in str(e.value) and "line 7" in str(e.value) and "'t_end'" in str(e.value)
    edit(files[0], 5, "condition", "nonsense")                  # the earliest file of all
    with pytest.raises(DataValidationError) as e:
        load_sessions(d)
    assert str(files[0]) in str(e.value) and "line 5 (data row 4)" in str(e.value) and "'condition'" in str(e.value)
