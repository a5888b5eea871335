"""Render a :class:`~analysis.report.build.Report` to one self-contained HTML file."""
from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from typing import Union

from analysis.errors import AnalysisError
from analysis.format import format_number, format_p, pct
from analysis.report.build import Report

__all__ = ["render_html", "write_report", "TEMPLATES"]

#: Folder of the Jinja2 templates (shipped inside the package).
TEMPLATES = Path(__file__).with_name("templates")


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    env.filters["num"] = lambda x, digits=2: format_number(x, digits)
    env.filters["pct"] = pct  # a proportion (0..1) as a percentage
    # a quantity already in percent (I² of analysis.meta.pooling): printed as it is, never times 100 again
    env.filters["pct_points"] = lambda x: pct(None if x is None else x / 100)
    env.filters["pval"] = format_p
    return env


def render_html(report: Report) -> str:
    """The report as an HTML5 string (deterministic for the same report).

    Examples
    --------
    >>> from analysis.report import build_study_report
    >>> html = render_html(build_study_report("burger1986", 1))
    >>> "<h2 id=\\"study\\">" in html and "http://" not in html and "https://" not in html
    True
    """
    return _environment().get_template("base.html.j2").render(report=report)


def write_report(report: Report, out: Union[str, Path], force: bool = False) -> Path:
    """Write the report to ``out``; refuse an existing file unless ``force``.

    The file is written to a temporary file created exclusively in the target
    folder and renamed into place, so a failed write leaves nothing behind.

    Raises
    ------
    AnalysisError
        ``out`` exists (without ``force``), is a folder, or its folder is missing or unwritable.

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> from analysis.report.build import build_study_report
    >>> write_report(build_study_report('cialdini1975', 1), tmp / 'report.html').name
    'report.html'
    >>> try: write_report(build_study_report('cialdini1975', 1), tmp / 'report.html')
    ... except Exception as e: print(type(e).__name__)
    AnalysisError
    """
    out = Path(out)
    if out.is_dir():
        raise AnalysisError(f"{out}: is a folder; give a file name, e.g. {out / 'report.html'}")
    if out.exists() and not force:
        raise AnalysisError(f"{out}: already exists (use --force to replace it)")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise AnalysisError(f"{folder}: no such folder for the report")
    html = render_html(report)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise AnalysisError(f"{folder}: cannot write the report here ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise AnalysisError(f"{out}: cannot write the report ({exc.strerror})") from None
    return out
