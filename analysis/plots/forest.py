"""The forest plot of a multi-site pooling, drawn from a :class:`~analysis.meta.pooling.PoolResult` alone.

One panel per confirmatory contrast: a row per site (label, n, odds ratio with its 95%
CI, a square whose area is the site's weight in the headline model), the original
study's row (marked, hollow), a diamond per τ² estimator, the prediction interval for
a new site under the headline diamond, the pooled estimate with the original study
(when it was included), and the null line at OR = 1.  Uses matplotlib's Agg backend.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Optional, Union

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from analysis.errors import AnalysisError  # noqa: E402
from analysis.format import format_number, pct  # noqa: E402

__all__ = ["plot_forest"]

_ROW_IN = 0.27          # inches per row
_LEFT_IN, _PLOT_IN, _RIGHT_IN = 3.4, 4.4, 3.6   # label columns | the plot | OR [CI] and weight columns
_N_IN = 0.55            # the n column, just left of the plot
_SITE = "#1f4e79"
_ORIGINAL = "#b5179e"
_POOLED = "#222222"
_PI = "#d95f02"


def _or(x: float) -> str:
    return format_number(math.exp(x)) if math.isfinite(x) else "NA"


def _rows(c):
    """(kind, label, n, estimate, lo, hi, weight, model) top to bottom."""
    head = c.headline
    w = dict(zip(head.sites, head.weights)) if head else {}
    rows = []
    for s in c.sites:
        lo, hi = s.ci()
        y = s.yi if hasattr(s, "yi") else s.log_or   # an EffectPool's SiteValue, or a binary SiteEffect
        rows.append(("site", s.site + (" *" if s.corrected else ""), s.n, y, lo, hi, w.get(s.site), None))
    if getattr(c, "original", None) is not None:
        lo, hi = c.original.ci()
        rows.append(("original", c.original.site, c.original.n, c.original.log_or, lo, hi, None, None))
    if c.random:
        rows.append(("gap",) + (None,) * 7)
        for r in c.random:
            chosen = r.method == c.method
            label = f"Random effects, {r.method}" + (" (chosen)" if chosen else "")
            rows.append(("pooled", label, None, r.estimate, r.ci_low, r.ci_high, None, r))
            if chosen:
                rows.append(("pi", f"{pct(r.level, 0)} prediction interval, {r.method}", None, r.estimate, r.pi_low,
                             r.pi_high, None, r))
        for r in getattr(c, "with_original", ()):
            if r.method == c.method:
                rows.append(("with_original", f"{r.method} with the original study", None, r.estimate, r.ci_low,
                             r.ci_high, None, r))
    return rows


def _panel(ax, c, level: float) -> None:
    rows = _rows(c)
    measure = getattr(c, "measure", "log_or")
    _or = (lambda x: format_number(c.back(x), 3 if measure == "PLO" else 2) if math.isfinite(x) else "NA") \
        if hasattr(c, "back") else globals()["_or"]
    head = {"log_or": "OR", "SMD": "g", "ROM": "ratio", "PLO": "proportion", "LROR": "ratio of ORs"}[measure]
    n = len(rows)
    ys = list(range(n, 0, -1))
    trans = blended_transform_factory(ax.transAxes, ax.transData)
    finite = [v for r in rows if r[0] != "gap" for v in (r[4], r[5]) if v is not None and math.isfinite(v)]
    finite += [0.0]
    lo_x, hi_x = min(finite), max(finite)
    pad = 0.05 * (hi_x - lo_x or 1.0)
    ax.set_xlim(lo_x - pad, hi_x + pad)
    fs = 8.5
    x_site, x_n, x_or, x_w = -_N_IN / _PLOT_IN - 0.02, -0.02, 1 + 0.1 / _PLOT_IN, 1 + 2.05 / _PLOT_IN
    for x, text, ha in ((x_site, "site", "right"), (x_n, "n", "right"), (x_or, f"{head} [{pct(level, 0)} CI]", "left"),
                        (x_w, "weight", "left")):
        ax.text(x, n + 1, text, transform=trans, ha=ha, va="center", fontsize=fs, weight="bold")
    for y, (kind, label, size, est, lo, hi, weight, model) in zip(ys, rows):
        if kind == "gap":
            ax.axhline(y, color="#bbbbbb", lw=0.6)
            continue
        if kind in ("site", "original"):
            color = _ORIGINAL if kind == "original" else _SITE
            ax.plot([lo, hi], [y, y], color=color, lw=1.1, solid_capstyle="butt")
            ms = 3 + 22 * math.sqrt(weight / 100) if weight else 7  # area ~ weight
            ax.plot([est], [y], marker="s" if kind == "site" else "D", ms=ms, color=color,
                    mfc=color if kind == "site" else "white", mew=1.4, ls="none")
        elif kind == "pi":
            ax.plot([lo, hi], [y, y], color=_PI, lw=2.2, solid_capstyle="butt")
            ax.plot([lo, hi], [y, y], color=_PI, marker="|", ms=9, ls="none")
        else:
            h = 0.38
            color = _POOLED if kind == "pooled" and model.method == c.method else (
                _ORIGINAL if kind == "with_original" else "#8a8a8a")
            ax.add_patch(Polygon([(lo, y), (est, y + h), (hi, y), (est, y - h)], closed=True, facecolor=color,
                                 edgecolor=color))
        tcolor = _ORIGINAL if kind in ("original", "with_original") else (_PI if kind == "pi" else "black")
        wt = "bold" if kind == "pooled" and model.method == c.method else "normal"
        ax.text(x_site, y, label if kind != "original" else "Original study", transform=trans, ha="right",
                va="center", fontsize=fs, color=tcolor, weight=wt)
        if size is not None:
            ax.text(x_n, y, str(size), transform=trans, ha="right", va="center", fontsize=fs, color=tcolor)
        if kind == "pi":
            txt = f"[{_or(lo)}, {_or(hi)}]"
        else:
            txt = f"{_or(est)} [{_or(lo)}, {_or(hi)}]"
        ax.text(x_or, y, txt, transform=trans, ha="left", va="center", fontsize=fs, color=tcolor, weight=wt,
                family="monospace")
        if kind == "site" and weight is not None:
            ax.text(x_w, y, f"{format_number(weight, 1)}%", transform=trans, ha="left", va="center", fontsize=fs,
                    family="monospace")
        elif kind == "pooled":
            ax.text(x_w, y, f"τ² = {format_number(model.tau2, 3)}, I² = {format_number(model.i2, 0)}%", transform=trans, ha="left", va="center",
                    fontsize=fs - 1, color="#444444")
    if measure != "PLO":   # no effect: 0 on every scale but a proportion's
        ax.axvline(0.0, color="#555555", lw=0.9, ls="--", zorder=0)
    ax.set_ylim(0.3, n + 1.6)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    if measure in ("SMD", "PLO"):
        ax.tick_params(axis="x", labelsize=fs)
        ax.set_xlabel("Hedges' g   ← favours control  |  favours treatment →" if measure == "SMD"
                      else "logit proportion of compliance", fontsize=fs)
        _title_and_foot(ax, c, n, trans, fs)
        return
    # an odds-ratio axis on the log scale: ticks where they read well
    cands = [0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
    xl = ax.get_xlim()
    ticks = [t for t in cands if xl[0] <= math.log(t) <= xl[1]]
    ax.set_xticks([math.log(t) for t in ticks])
    ax.set_xticklabels([f"{t:g}" for t in ticks], fontsize=fs)
    name = {"log_or": "odds ratio", "ROM": "ratio of means", "LROR": "ratio of odds ratios"}[measure]
    ax.set_xlabel(f"{name} (log scale)   ← favours control  |  favours treatment →", fontsize=fs)
    _title_and_foot(ax, c, n, trans, fs)


def _title_and_foot(ax, c, n, trans, fs) -> None:
    measure = getattr(c, "measure", "")
    title = f"{c.label}" + (f" [{measure}]" if measure else "")
    if c.treatment:
        title += f"\n{c.treatment} vs {' + '.join(c.control)}"
    ax.text(-_LEFT_IN / _PLOT_IN + 0.02, n + 2.2, title, transform=trans, ha="left", va="bottom",
            fontsize=fs + 1.5)
    foot = []
    if any(s.corrected for s in c.sites):
        foot.append("* 0.5 added to every cell (a zero cell)")
    if c.left_out:
        foot.append("left out (a condition missing): " + ", ".join(s for s, _ in c.left_out))
    if foot:
        ax.text(-_LEFT_IN / _PLOT_IN + 0.02, -1.6, "; ".join(foot), transform=trans, ha="left", va="top", fontsize=fs - 1,
                color="#555555")


def plot_forest(result, path: Optional[Union[str, Path]] = None, dpi: int = 150):
    """Draw the forest plot of a pooling result; save it as a PNG when ``path`` is given.

    Parameters
    ----------
    result : PoolResult
        From :func:`analysis.pool` (the plot needs nothing else).
    path : str or Path, optional
        Output PNG; without it the matplotlib Figure is returned unsaved.
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    Path or matplotlib.figure.Figure

    Examples
    --------
    >>> from analysis import pool
    >>> from analysis.plots.forest import plot_forest
    >>> plot_forest(pool("data/sessions/"), "forest.png")   # doctest: +SKIP
    """
    panels = [c for c in result.contrasts if c.sites or c.original is not None]
    panels += [c for c in getattr(result, "pools", ()) if c.sites and c.random]
    if not panels:
        raise AnalysisError("nothing to plot: no contrast has a site with every condition")
    per_panel = [len(_rows(c)) + 1.6 for c in panels]       # rows + header row + margins
    gap_in, top_in, bottom_in = 1.3, 0.7, 0.3
    height = sum(per_panel) * _ROW_IN + gap_in * len(panels) + top_in + bottom_in
    width = _LEFT_IN + _PLOT_IN + _RIGHT_IN
    fig = plt.figure(figsize=(width, height))
    y_top = height - top_in
    for c, rows_h in zip(panels, per_panel):
        y_top -= 0.55                                  # the panel's title
        h = rows_h * _ROW_IN
        ax = fig.add_axes([_LEFT_IN / width, (y_top - h) / height, _PLOT_IN / width, h / height])
        _panel(ax, c, result.level)
        y_top -= h + gap_in - 0.55
    ci = "Hartung-Knapp-Sidik-Jonkman" if result.test == "knha" else "Wald"
    fig.text(0.15 / width, 1 - 0.25 / height, f"{result.study}, Experiment {result.experiment}: {result.n_sites} "
             f"sites pooled (τ² by {result.method}, {ci} CI); squares: site weight in the {result.method} model"
             + (f"\n{result.origin_label}" if getattr(result, "origin_label", "") else ""),
             fontsize=11, ha="left", va="top")
    if path is None:
        return fig
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
