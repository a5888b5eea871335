"""The replication verdicts as a picture: one axis per contrast.

Each axis is a small forest plot on the odds-ratio scale (log axis): the original and
the replication with their 95% CIs, the fixed-effect combination, the original's 95%
prediction interval (Patil et al., 2016) as a band, d33 and the equivalence bounds as
vertical lines.  d33 and bounds given on Cohen's h or the risk difference are drawn at
the odds ratio they mean at the original's control rate (they are defined there).
A contrast known only by Cohen's w is drawn on the w scale instead (w33 marked); one
with nothing to draw says why.
"""
from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Union

from analysis.format import format_number
from analysis.plots.rates import _titled
from analysis.replication.criteria import NOT_COMPUTABLE

__all__ = ["plot_replication"]

_ORIG, _REP, _COMB = "#1f4e79", "#c55a11", "#404040"


def _verdict(c) -> str:
    """A legend label's tail: what the criterion found and, apart, whether the replication succeeded."""
    if c.decision == NOT_COMPUTABLE:
        return ""
    return f"\n  {c.finding_text}; replication succeeded? {c.succeeded_text}"


def _odds(p: float) -> float:
    return p / (1 - p)


def _or_at(p_control: float, direction: int, h: float = math.nan, rd: float = math.nan) -> float:
    """The odds ratio of an effect of size h (or RD) away from ``p_control`` in ``direction``."""
    if not math.isnan(h):
        a = math.asin(math.sqrt(p_control)) + direction * h / 2
        if not 0 < a < math.pi / 2:
            return math.nan
        p1 = math.sin(a) ** 2
    else:
        p1 = p_control + direction * rd
    if not (0 < p1 < 1 and 0 < p_control < 1):
        return math.nan
    return _odds(p1) / _odds(p_control)


def _panel_or(ax, k) -> None:
    oe, re_ = k.original_effects, k.replication_effects
    rows = [("original", oe.odds_ratio, oe.or_low, oe.or_high, _ORIG),
            ("replication", re_.odds_ratio, re_.or_low, re_.or_high, _REP)]
    fe = k.criterion("fixed_effect")
    if fe.decision != NOT_COMPUTABLE and fe.scale == "log OR":
        rows.append(("combined (fixed effect)", math.exp(fe.estimate), math.exp(fe.low), math.exp(fe.high), _COMB))
    pi = k.criterion("prediction_interval")
    if pi.decision != NOT_COMPUTABLE and pi.scale == "log OR":
        ax.axvspan(math.exp(pi.low), math.exp(pi.high), color=_ORIG, alpha=0.12, lw=0,
                   label="original's 95% prediction interval" + _verdict(pi))
    ax.axvline(1.0, color="grey", lw=0.8)
    p0, d = k.original.p2, k.direction or 1
    if not math.isnan(k.d33_h) and not math.isnan(p0):
        or33 = _or_at(p0, d, h=k.d33_h)
        if not math.isnan(or33):
            ax.axvline(or33, color="#7030a0", ls="--", lw=1.2, zorder=2,
                       label=f"d33 (h = {format_number(k.d33_h)}, at the original's control rate)"
                       + _verdict(k.criterion("small_telescopes")))
    if not math.isnan(k.sesoi) and not math.isnan(p0):
        bounds = [_or_at(p0, s, **({"h": k.sesoi} if k.sesoi_scale == "h" else {"rd": k.sesoi})) for s in (1, -1)]
        first = True
        for b in bounds:
            if not math.isnan(b):
                ax.axvline(b, color="#548235", ls=":", lw=3.0, zorder=1,
                           label=f"equivalence bounds (±{format_number(k.sesoi)} on {k.sesoi_scale}, "
                                 f"{k.sesoi_source})" + _verdict(k.criterion("equivalence")) if first else None)
                first = False
    ys = list(range(len(rows)))[::-1]
    for y, (name, est, lo, hi, col) in zip(ys, rows):
        if math.isnan(est):
            continue
        if not math.isnan(lo):
            ax.plot([lo, hi], [y, y], color=col, lw=2)
        ax.plot([est], [y], "s" if name.startswith("combined") else "o", color=col, ms=7)
    ax.set_yticks(ys)
    ax.set_yticklabels([r[0] for r in rows])
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator

    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_xlabel("odds ratio (95% CI), log scale")
    ax.set_ylim(-0.8, len(rows) - 0.2)


def _panel_w(ax, k) -> None:
    rows = []
    for name, side, col in (("original", k.original, _ORIG), ("replication", k.replication, _REP)):
        if side.has_w:
            from analysis.replication.criteria import _ncp_ci

            lo, hi = _ncp_ci(side.n * side.w ** 2, side.n)
            rows.append((f"{name} (N = {side.n})", side.w, lo, hi, col))
    pi = k.criterion("prediction_interval")
    if pi.decision != NOT_COMPUTABLE:
        ax.axvspan(math.tanh(pi.low), math.tanh(pi.high), color=_ORIG, alpha=0.12, lw=0,
                   label="original's 95% prediction interval (φ)" + _verdict(pi))
    st = k.criterion("small_telescopes")
    if st.decision != NOT_COMPUTABLE:
        ax.axvline(st.bound, color="#7030a0", ls="--", lw=1.2, label=f"w33 = {format_number(st.bound)}" + _verdict(st))
    eq = k.criterion("equivalence")
    if eq.decision != NOT_COMPUTABLE:
        ax.axvline(eq.bound, color="#548235", ls=":", lw=1.4,
                   label=f"equivalence bound (w < {format_number(eq.bound)})" + _verdict(eq))
    ax.axvline(0, color="grey", lw=0.8)
    ys = list(range(len(rows)))[::-1]
    for y, (_, est, lo, hi, col) in zip(ys, rows):
        ax.plot([lo, hi], [y, y], color=col, lw=2)
        ax.plot([est], [y], "o", color=col, ms=7)
    ax.set_yticks(ys)
    ax.set_yticklabels([r[0] for r in rows])
    ax.set_xlabel("Cohen's w (95% CI); direction not published")
    ax.set_ylim(-0.8, len(rows) - 0.2)


def plot_replication(result, path: Union[str, Path], dpi: int = 150) -> Path:
    """Save the verdict plot of a :class:`~analysis.replication.verdict.Replication` at ``path``.

    Returns the path written.

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> from analysis.replication.verdict import replicate
    >>> r = replicate(study='cialdini1975', experiment=1, counts={"rejection_moderation": (25, 40), "exposure_control": (12, 40), "smaller_request_only": (13, 40)})
    >>> plot_replication(r, tmp / 'verdicts.png').name
    'verdicts.png'
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = list(result.contrasts)
    n = max(len(ks), 1)
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 4.6), squeeze=False)
    for ax, k in zip(axes[0], ks):
        if k.original_effects.odds_ratio == k.original_effects.odds_ratio and \
                k.replication_effects.odds_ratio == k.replication_effects.odds_ratio:
            _panel_or(ax, k)
        elif k.original.has_w and k.replication.has_w:
            _panel_w(ax, k)
        else:
            reasons = sorted({c.reason for c in k.criteria if c.decision == NOT_COMPUTABLE})
            ax.text(0.5, 0.5, "\n".join(textwrap.wrap("not computable: " + "; ".join(reasons), 36)),
                    ha="center", va="center", transform=ax.transAxes, fontsize=9, color="#7f7f7f")
            ax.set_xticks([])
            ax.set_yticks([])
        ax.set_title("\n".join(textwrap.wrap(k.label, 40)), fontsize=9.5)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    title = f"{result.study}, Experiment {result.experiment}: original vs replication"
    label = getattr(result, "origin_label", "")
    fig.suptitle(_titled(label, title), fontsize=11, color="#c00000" if label else "black")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path
