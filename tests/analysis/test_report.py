"""``compliance report``: one self-contained, deterministic, accessible HTML page."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import html5lib
import pytest

import paradigms
from analysis.errors import AnalysisError
from analysis.report import build_report, build_study_report, render_html, write_report
from paradigms.engine.sessions import simulate

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    d = tmp_path_factory.mktemp("site1")
    simulate(paradigms.get("cialdini1975"), 1, 48, seed=5, data_dir=d)
    return d


@pytest.fixture(scope="module")
def page(sessions, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    write_report(build_report(sessions, command="compliance report site1 --out report.html"), out)
    return out


def _tree(text: str):
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(text)
    return parser, tree


def test_page_is_valid_html5(page):
    parser, _ = _tree(page.read_text(encoding="utf-8"))
    assert parser.errors == []


def test_page_loads_nothing_from_outside(page):
    text = page.read_text(encoding="utf-8")
    _, tree = _tree(text)
    for el in tree.iter():
        for attr in ("src", "href"):
            v = el.get(attr)
            if v is not None:
                assert v.startswith(("data:", "#")), (el.tag, attr, v[:60])
    assert "default-src 'none'" in text  # the policy forbids any other source
    assert not re.search(r"url\((?!data:)", text)


def test_headings_in_order_tables_with_headers_figures_with_alt(page):
    _, tree = _tree(page.read_text(encoding="utf-8"))
    levels = [int(el.tag[1]) for el in tree.iter() if isinstance(el.tag, str) and re.fullmatch(r"h[1-6]", el.tag)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels
    tables = [el for el in tree.iter("table")]
    assert tables and all(t.find(".//th") is not None for t in tables)
    imgs = list(tree.iter("img"))
    assert imgs and all(len(i.get("alt", "")) > 40 for i in imgs)


def test_sections_carry_the_data(page, sessions):
    text = page.read_text(encoding="utf-8")
    csv = next(Path(sessions).glob("*_data.csv"))
    import hashlib
    assert hashlib.sha256(csv.read_bytes()).hexdigest() in text  # each file's SHA-256
    for title in ("The study", "The data", "Who was analysed", "Compliance by condition", "Confirmatory tests",
                  "The power the design had", "Did it replicate? The verdicts side by side",
                  "Codebook", "How to reproduce this page"):
        assert f">{title}</h2>" in text
    assert "Simulated data." in text  # every output made from simulated data says so
    assert "Cialdini, R. B." in text and "@media print" in text


def test_same_data_gives_a_byte_identical_page(sessions, tmp_path):
    a = render_html(build_report(sessions, command="x"))
    b = render_html(build_report(sessions, command="x"))
    assert a == b


def test_cli_twice_gives_identical_files_and_refuses_to_overwrite(cli, sessions, tmp_path):
    cli("report", sessions, "--out", tmp_path / "a.html", check=0)
    (tmp_path / "b").mkdir()
    cli("report", sessions, "--out", tmp_path / "b" / "a.html", check=0)
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b" / "a.html").read_bytes()
    before = (tmp_path / "a.html").read_bytes()
    p = cli("report", sessions, "--out", tmp_path / "a.html", check=2)
    assert "already exists" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert (tmp_path / "a.html").read_bytes() == before
    cli("report", sessions, "--out", tmp_path / "a.html", "--force", check=0)


def test_study_report_without_data(cli, tmp_path):
    cli("report", "cialdini1975", "--experiment", "1", "--out", tmp_path / "repro.html", check=0)
    text = (tmp_path / "repro.html").read_text(encoding="utf-8")
    assert "The published statistics, recomputed" in text and "chi2 = 6.42" in text
    assert [s.id for s in build_study_report("burger1986", 1).sections][0] == "study"


@pytest.mark.parametrize("make_bad, message", [
    (lambda d: None, "no session files"),
    (lambda d: (d / "other_data.csv").write_text("trial,rt\n1,0.5\n"), "other_data.csv"),
])
def test_bad_input_is_one_line_and_writes_nothing(cli, tmp_path, make_bad, message):
    d = tmp_path / "in"
    d.mkdir()
    make_bad(d)
    out = tmp_path / "r.html"
    p = cli("report", d, "--out", out, check=2)
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert not out.exists() and list(tmp_path.glob(".r.html*")) == []


def test_output_folder_problems(cli, sessions, tmp_path):
    p = cli("report", sessions, "--out", tmp_path, check=2)
    assert "is a folder" in p.stderr
    p = cli("report", sessions, "--out", tmp_path / "missing" / "r.html", check=2)
    assert "does not exist" in p.stderr


def test_unwritable_folder_is_an_error_and_leaves_nothing(sessions, tmp_path, monkeypatch):
    import tempfile

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(AnalysisError, match="cannot write the report here"):
        write_report(build_study_report("cialdini1975", 1), tmp_path / "r.html")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.browser
def test_page_in_a_real_browser(page, tmp_path):
    """Headless Chromium: every image loads, the page requests nothing, a screenshot is made.

    The page's own requests are read from the Resource Timing API (``data:`` images are not
    requests); the browser runs with every host name unresolvable, so nothing could leave anyway.
    Chromium's own background traffic (update checks) is not the page's and is not counted.
    """
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium not installed")
    # a copy with a probe script (the report itself has none: its policy forbids scripts)
    probe = ("<script>window.addEventListener('load', function () { var im = Array.from(document.images); "
             "document.title = 'IMAGES ' + im.length + ' LOADED ' + "
             "im.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length + ' REQUESTS ' + "
             "JSON.stringify(performance.getEntriesByType('resource').map(function (e) { return e.name; })); "
             "});</script>")
    text = page.read_text(encoding="utf-8").replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    check = tmp_path / "check.html"
    check.write_text(text.replace("</body>", probe + "</body>"), encoding="utf-8")
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    dom = subprocess.run(base + ["--virtual-time-budget=5000", "--dump-dom",
                                 check.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r"<title>IMAGES (\d+) LOADED (\d+) REQUESTS (.*)</title>", dom.stdout)
    assert m, dom.stderr[-2000:]
    assert int(m.group(1)) >= 1 and m.group(1) == m.group(2)
    assert json.loads(m.group(3).replace("&quot;", '"')) == []
    shot = tmp_path / "report.png"
    subprocess.run(base + ["--window-size=1100,2400", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, cwd=tmp_path)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    keep = os.environ.get("COMPLIANCE_KEEP_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / "report.png")


def test_several_sites_add_the_pooled_analysis_and_the_forest_plot(tmp_path):
    for site, seed in (("A", 1), ("B", 2), ("C", 3)):
        simulate(paradigms.get("cialdini1975"), 1, 36, seed=seed, data_dir=tmp_path / site, site=site)
    report = build_report(tmp_path)
    ids = [s.id for s in report.sections]
    assert "pooled" in ids and ids.index("pooled") > ids.index("tests")
    text = render_html(report)
    assert "Sites pooled (random-effects meta-analysis)" in text and "RE (REML)" in text
    _, tree = _tree(text)
    alts = [i.get("alt") for i in tree.iter("img")]
    assert any(a.startswith("Forest plot") for a in alts) and len(alts) == 3  # rates, verdicts, forest
    # one site: no pooled section
    assert "pooled" not in [s.id for s in build_report(tmp_path / "A").sections]


def test_power_section_shows_exact_power_for_the_original_effect(page):
    from analysis.power.exact import power_two_proportions
    from analysis.results import format_number

    r = build_study_report("cialdini1975", 1)
    sec = next(s for s in r.sections if s.id == "power")
    row = next(x for x in sec.context["rows"] if x["label"] == "door-in-the-face vs smaller request only")
    # the original design: 12/24 vs 4/24 (Table 1), with the paper's test (Pearson's χ², issue 21), computed
    # independently here; R's enumeration of chisq.test(correct = FALSE) gives 0.715656751987 (test_power.py)
    assert row["at_original"].power == pytest.approx(power_two_proportions(0.5, 4 / 24, 24, 24, test="chi2").power)
    assert row["at_original"].power == pytest.approx(0.715656751987, abs=1e-9)
    assert "Pearson" in row["design"]
    assert format_number(row["at_original"].power, 2) in render_html(r)
    # Experiment 3: nothing published, so every row says why instead of guessing
    rows3 = next(s for s in build_study_report("cialdini1975", 3).sections if s.id == "power").context["rows"]
    assert all(x["at_original"] is None and x["reason"].startswith("not computable") for x in rows3)
    assert "at this data set&#39;s n" in page.read_text(encoding="utf-8") or \
        "at this data set's n" in page.read_text(encoding="utf-8")


def test_verdict_section_renders_the_replication_result(sessions):
    from analysis.replication.verdict import replicate

    report = build_report(sessions)
    sec = next(s for s in report.sections if s.id == "verdicts")
    expected = replicate(sessions).table()
    assert sec.context["cells"] == expected.to_dict("index")  # a view of the result, nothing recomputed
    text = render_html(report)
    for criterion in expected.index:
        cell = html.escape(criterion).replace("&#x27;", "&#39;")  # Jinja2 escapes ' as &#39;
        assert f'<th scope="row">{cell}</th>' in text


def test_pooled_table_prints_i2_as_the_sentence_does_never_above_100_percent(tmp_path):
    """I² is carried in percent by the pooling (metafor's I2): the table prints it as it is
    (never times 100 again), the same number as the sentence above the table."""
    for site, seed, n in (("A", 1, 36), ("B", 2, 36), ("C", 7, 60)):
        simulate(paradigms.get("cialdini1975"), 1, n, seed=seed, data_dir=tmp_path / site, site=site)
    report = build_report(tmp_path)
    sec = next(s for s in report.sections if s.id == "pooled")
    text = render_html(report)
    _, tree = _tree(text)
    section = next(el for el in tree.iter("section") if el.get("id") == "pooled") \
        if any(el.get("id") == "pooled" for el in tree.iter("section")) else tree
    printed = []
    for table in section.iter("table"):
        heads = ["".join(th.itertext()) for th in table.iter("th")]
        if "I²" not in heads:
            continue
        col = heads.index("I²")
        for tr in table.find("tbody").iter("tr"):
            cells = ["".join(td.itertext()) for td in tr]
            if cells[col].strip():
                printed.append(cells[col].strip())
    assert printed, "no I² printed in the pooled tables"
    for cell in printed:
        assert cell.endswith("%") and 0 <= float(cell[:-1]) <= 100, cell
    # the same number as the pooling's own sentence (I² = xx.x%), independently: tau2 / (tau2 + v~) * 100
    i2_rows = [r["i2"] for t in sec.context["tables"] for r in t["rows"] if r["i2"] == r["i2"] and r["i2"] is not None]
    assert i2_rows and all(0 <= i2 <= 100 for i2 in i2_rows)
    from decimal import ROUND_HALF_UP, Decimal
    expected = [str(Decimal(repr(i2)).quantize(Decimal("0.1"), ROUND_HALF_UP)) + "%" for i2 in i2_rows]
    assert printed == expected
    said = re.findall(r"I² = ([0-9.]+%)", text)  # the sentences above the tables say the same numbers
    assert said and set(said) <= set(printed)
