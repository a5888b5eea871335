"""Who is analysed: one rule (analysis.load.status.participant_status) everywhere.

The mixed row -- ``excluded = 1`` and ``data_consent = 0`` -- is *withdrawn*
(the participant's withdrawal wins over the experimenter's exclusion), and is
counted once, as withdrawn, by the loader, the count analysis, the technique x
price model and the CLI summary.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import paradigms
from analysis import load_sessions, rows_from_counts, write_session_csv
from analysis.stats.counts import prepare
from analysis.stats.factorial import technique_by_price
from analysis.load.status import participant_status

COUNTS = {"rejection_moderation": (3, 5), "exposure_control": (1, 4), "smaller_request_only": (2, 6)}


@pytest.mark.parametrize("excluded,consent,expect", [
    (0, 1, "analysed"), (0, None, "analysed"), (None, None, "analysed"), ("0", "1", "analysed"),
    (1, 1, "excluded"), (1, None, "excluded"), ("1", "", "excluded"),
    (0, 0, "withdrawn"), ("0", "0", "withdrawn"),
    (1, 0, "withdrawn"), ("1", "0", "withdrawn"),   # the mixed row
])
def test_one_row(excluded, consent, expect):
    assert participant_status({"excluded": excluded, "data_consent": consent}) == expect
    frame = pd.DataFrame({"excluded": [excluded], "data_consent": [consent]})
    assert participant_status(frame).tolist() == [expect]


def test_missing_columns_mean_not_excluded_and_not_asked():
    assert participant_status(pd.DataFrame({"x": [1, 2]})).tolist() == ["analysed", "analysed"]
    assert participant_status(pd.DataFrame({"data_consent": [0, 1]})).tolist() == ["withdrawn", "analysed"]


def test_loader_reports_the_mixed_row_once_as_withdrawn(tmp_path):
    rows = rows_from_counts("cialdini1975", 1, COUNTS)
    rows[0].update(excluded="1", exclusion_reason="not_alone", complied="", target_request_answer="",
                   data_consent="0")
    rows[1].update(excluded="1", exclusion_reason="not_alone", complied="", target_request_answer="")
    p = write_session_csv(tmp_path / "a_data.csv", rows, paradigms.get("cialdini1975").columns(1))
    loaded = load_sessions(p)
    rep = loaded.report.set_index("participant_id")["status"]
    assert rep[rows[0]["participant_id"]] == "withdrawn"
    assert rep[rows[1]["participant_id"]] == "excluded"
    assert len(loaded.report) == 2
    assert len(loaded.analysable()) == 15 - 2
    assert rows[0]["participant_id"] not in set(loaded.data["participant_id"])


def _regan_frame():
    rng = np.random.default_rng(1)
    rows = []
    for favor in ("confederate_favor", "no_favor"):
        for liking in ("pleasant", "unpleasant"):
            for i in range(6):
                rows.append(dict(favor=favor, liking=liking, tickets=int(rng.integers(0, 5)), excluded=0,
                                 data_consent=1))
    return pd.DataFrame(rows)


def test_count_analysis_counts_the_mixed_row_as_withdrawn():
    df = _regan_frame()
    df.loc[0, ["excluded", "data_consent"]] = [1, 0]      # mixed
    df.loc[1, ["excluded", "data_consent"]] = [1, 1]      # excluded
    df.loc[2, ["excluded", "data_consent"]] = [0, 0]      # withdrawn
    out, counts = prepare(df)
    assert counts["excluded"] == 1 and counts["withdrawn"] == 2
    assert len(out) == len(df) - 3


def test_technique_by_price_counts_the_mixed_row_as_withdrawn():
    rows = []
    for price in ("1", "5"):
        for tech in ("tna", "control"):
            for i in range(12):
                rows.append(dict(price=price, technique=tech, reason="none", complied=int(i % 3 == 0),
                                 excluded=0, data_consent=1))
    df = pd.DataFrame(rows)
    df.loc[0, ["excluded", "data_consent"]] = [1, 0]
    df.loc[1, ["excluded", "data_consent"]] = [1, 1]
    r = technique_by_price(df, reason=None)
    assert (r.n_excluded, r.n_withdrawn, r.n) == (1, 1, len(df) - 2)


def test_cli_summary_leaves_the_mixed_row_out(tmp_path, capsys):
    from paradigms.cli import _print_summary
    rows = rows_from_counts("cialdini1975", 1, {"rejection_moderation": (3, 5)})
    rows[0].update(excluded="1", exclusion_reason="not_alone", data_consent="0")   # complied stays 1
    p = write_session_csv(tmp_path / "a_data.csv", rows, paradigms.get("cialdini1975").columns(1))
    _print_summary(p, paradigms.get("cialdini1975"))
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("rejection_moderation")][0]
    n, k = line.split()[1:3]
    assert (int(n), int(k)) == (4, 2)
