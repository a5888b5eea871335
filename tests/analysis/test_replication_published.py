"""The published reference data: typed, complete for the four studies, honest about gaps."""
import pandas as pd
import pytest

from analysis import ReferenceDataError, load_published, published_rates
from analysis.replication.published import PUBLISHED_FILE


@pytest.fixture(scope="module")
def pub():
    return load_published()


def test_typed_columns(pub):
    assert str(pub["value"].dtype) == "Float64"
    assert str(pub["experiment"].dtype) == "Int64"
    assert list(pub["confidence"].cat.categories) == ["primary", "secondary", "weak"]


def test_all_four_studies_present(pub):
    assert {"regan1971", "cialdini1975", "burger1986", "pollock1998"} <= set(pub["study"])
    assert {1, 2, 3} <= set(pub.loc[pub.study == "cialdini1975", "experiment"].dropna())


def test_missing_figures_are_na_with_a_note(pub):
    na = pub[pub["value"].isna()]
    assert len(na) > 0 and (na["note"] != "").all()
    e3 = pub[(pub.study == "cialdini1975") & (pub.experiment == 3)]
    # Experiment 3: no cell counts or rates; only N and the paper's two tests (via FReD)
    assert e3.loc[e3["statistic"].isin(["rate", "n"]) & (e3["condition"] != ""), "value"].isna().all()
    known = e3[e3["value"].notna()]
    assert sorted(known["as_printed"]) == ["N = 72", "p = .091", "w = .20", "χ2 = 0.0, ns", "χ2 = 2.88"]


def test_conflicting_sources_are_both_kept(pub):
    burger = pub[(pub.study == "burger1986") & (pub.condition == "control") & (pub.statistic == "rate")]
    assert sorted(burger["as_printed"]) == ["40%", "45%"]
    ctrl = pub[(pub.study == "cialdini1975") & (pub.experiment == 1) & (pub.condition == "exposure_control")
               & (pub.statistic == "rate")]
    assert sorted(ctrl["as_printed"]) == ["16.7%", "25.0%"]


def test_cialdini_rates_agree_with_counts(pub):
    e1 = pub[(pub.study == "cialdini1975") & (pub.experiment == 1)]
    for cond in ("rejection_moderation", "exposure_control", "smaller_request_only"):
        x = e1[(e1.condition == cond) & (e1.statistic == "complied")]["value"].iloc[0]
        n = e1[(e1.condition == cond) & (e1.statistic == "n")]["value"].iloc[0]
        best = published_rates("cialdini1975", 1, published=pub)[cond]
        assert best == pytest.approx(x / n, abs=0.0005)


def test_regan_cells_and_threshold(pub):
    regan = pub[pub.study == "regan1971"]
    assert (regan["statistic"] == "mean").sum() == 6
    assert regan.loc[regan.statistic == "n", "value"].iloc[0] == 81
    assert sorted(regan.loc[regan.statistic == "rate", "value"]) == [0.25, 0.58]


def test_malformed_reference_file_names_line_and_column(tmp_path):
    text = PUBLISHED_FILE.read_text().splitlines()
    text[3] = text[3].replace(",weak,", ",dubious,")
    p = tmp_path / "pub.csv"
    p.write_text("\n".join(text) + "\n")
    with pytest.raises(ReferenceDataError) as e:
        load_published(p)
    assert str(p) in str(e.value) and "line 4" in str(e.value) and "'confidence'" in str(e.value)


def test_every_source_says_what_it_is():
    """A source names a citation (authors and year, the paper itself, or the FReD database), or says
    the kind of document and that it is uncited; never a bare "the seed article" or "a course page"
    (issue 21.6; the names come from shared/reference/published-results.md)."""
    import csv
    import re

    from tests.conftest import ROOT

    for name in ("published_results.csv", "replications.csv"):
        with open(ROOT / "data" / "published" / name, encoding="utf-8", newline="") as fh:
            sources = {r["source"] for r in csv.DictReader(fh)}
        for s in sources:
            cited = bool(re.search(r"\(\d{4}\)", s)) or "of the paper" in s or "FReD" in s or "paper" in s
            uncited = "uncited" in s
            assert cited or uncited, f"{name}: source {s!r} says neither a citation nor that it is uncited"
            if "course page" in s or "blog" in s or "web article" in s or "summary" in s or "write-up" in s \
                    or "secondary accounts" in s or "news article" in s or "chapter review" in s:
                assert uncited, f"{name}: {s!r} is an uncited kind of document and must say so"
            assert s not in ("the seed article", "a course page", "one course page", "a secondary note", "FReD")
