"""``compliance report``: one self-contained HTML page carrying what the toolkit knows of a data set.

The report is a *view*: :func:`build_report` gathers result objects that the
analysis already computes (:func:`analysis.analyze`, :func:`analysis.reproduce`
and, where the data allow, replication verdicts, pooling and power), and
:func:`render_html` renders them through Jinja2 templates
(``analysis/report/templates``).  Nothing is computed in a template.

The page has no network resources: styles are inline, figures are PNGs embedded
as ``data:`` URIs, and a Content-Security-Policy forbids every other source.
The same data and toolkit version give a byte-identical file (no clock time is
written that the data do not carry; figures are drawn deterministically).

Examples
--------
>>> html = render_html(build_study_report("cialdini1975", 1))   # a published study, no data
>>> html.startswith("<!DOCTYPE html>") and "Cialdini" in html
True

:func:`build_report` does the same for session files (see its example).
"""
from __future__ import annotations

from analysis.report.build import Report, Section, build_report, build_study_report
from analysis.report.render import render_html, write_report

__all__ = ["Report", "Section", "build_report", "build_study_report", "render_html", "write_report"]
