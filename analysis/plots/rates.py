"""Compliance rate by condition, with Wilson intervals and the published rates beside them.

Uses matplotlib's Agg backend (no screen needed).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.errors import AnalysisError  # noqa: E402
from analysis.replication.published import load_published, published_rates  # noqa: E402
from analysis.format import format_number, format_p, pct  # noqa: E402
from analysis.results import ExperimentAnalysis  # noqa: E402

__all__ = ["plot_rates", "plot_counts", "plot_interaction", "plot_analyses", "plot_targets", "check_plot_targets"]


def _wrap(name: str, width: int = 14) -> str:
    words, lines, cur = name.replace("_", " ").split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines.append(cur)
    return "\n".join(lines)


def plot_rates(analyses: Union[ExperimentAnalysis, Sequence[ExperimentAnalysis]], path: Union[str, Path],
               published: Optional[pd.DataFrame] = None, dpi: int = 150,
               labels: Optional[Sequence[str]] = None) -> Path:
    """Save a PNG: one panel per experiment (stacked), observed rate ± Wilson 95% CI per condition,
    and the original study's published rate (when known) as a hollow diamond beside it.

    Parameters
    ----------
    analyses : ExperimentAnalysis or sequence of them
        From :func:`analysis.analyze` (the list it returns, or one of its items).
    path : str or Path
        Output PNG.
    published : DataFrame, optional
        Reference data (default :func:`analysis.replication.published.load_published`).

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> from analysis.stats.binary import analyze_experiment
    >>> from analysis.load.synthetic import frame_from_counts
    >>> res = analyze_experiment(frame_from_counts('cialdini1975', 1, {"rejection_moderation": (25, 40), "exposure_control": (12, 40), "smaller_request_only": (13, 40)}), 'cialdini1975', 1, warn=False)
    >>> plot_rates(res, tmp / 'rates.png').name
    'rates.png'
    """
    analyses = [analyses] if isinstance(analyses, ExperimentAnalysis) else list(analyses)
    if not analyses:
        raise AnalysisError("nothing to plot: no experiment analysed")
    pub = load_published() if published is None else published
    k = len(analyses)
    width = min(18.0, max(6.0, 1.25 * max(len(a.conditions) for a in analyses) + 2.5))
    fig, axes = plt.subplots(k, 1, figsize=(width, 4.8 * k), squeeze=False)
    labels = list(labels or [""] * k)
    for ax, a, label in zip(axes[:, 0], analyses, labels):
        prates = published_rates(a.paradigm, a.experiment, published=pub)
        xs = range(len(a.conditions))
        shown_pub = False
        for x, c in zip(xs, a.conditions):
            if c.n:
                ax.bar(x - 0.17, c.rate, width=0.34, color="#4C72B0", alpha=0.85,
                       label="this study (Wilson 95% CI)" if x == 0 else None)
                ax.errorbar(x - 0.17, c.rate, yerr=[[c.rate - c.ci_low], [c.ci_high - c.rate]], fmt="none",
                            ecolor="black", capsize=5, lw=1.2)
                ax.text(x - 0.17, c.ci_high + 0.03, f"{c.complied}/{c.n}", ha="center", va="bottom", fontsize=9)
            else:
                ax.text(x - 0.17, 0.02, "no data", ha="center", va="bottom", fontsize=9, rotation=90)
            if c.condition in prates:
                ax.plot(x + 0.17, prates[c.condition], marker="D", markersize=9, markerfacecolor="white",
                        markeredgecolor="#C44E52", markeredgewidth=2, linestyle="none",
                        label=None if shown_pub else "original study (published)")
                ax.text(x + 0.17, prates[c.condition] + 0.04, pct(prates[c.condition], 0),
                        ha="center", va="bottom", fontsize=9, color="#C44E52")
                shown_pub = True
        ax.set_xticks(list(xs))
        ax.set_xticklabels([_wrap(c.condition) for c in a.conditions], fontsize=9)
        ax.set_ylim(0, 1.08)
        ax.set_title(_titled(label, f"{a.paradigm}, Experiment {a.experiment}\nN = {a.n_analysed} analysed; "
                                    f"{a.n_excluded} excluded, {a.n_withdrawn} withdrawn"), fontsize=10)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            ax.legend(loc="upper right", fontsize=8, frameon=False)
        ax.set_ylabel("complied with the target request")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def plot_counts(analysis, path: Union[str, Path], published: Optional[pd.DataFrame] = None,
                dpi: int = 150, label: str = "") -> Path:
    """Save a PNG of a count analysis (Regan 1971): mean count per cell with its 95% CI,
    grouped by the first factor, one bar per level of the second, and the published cell
    mean (when known) as a hollow diamond on the bar.

    Parameters
    ----------
    analysis : analysis.stats.counts.CountAnalysis
    path : str or Path
    published : DataFrame, optional
        Reference data (default :func:`analysis.replication.published.load_published`).

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> import paradigms
    >>> from analysis.stats.counts import analyze_count_plan
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> res = analyze_count_plan(frame_from_tickets(), paradigms.get('regan1971').experiment(1))
    >>> plot_counts(res, tmp / 'tickets.png').name
    'tickets.png'
    """
    pub = load_published() if published is None else published
    a_name, b_name = analysis.factors
    cells = list(analysis.cells)
    a_levels = list(dict.fromkeys(c.favor for c in cells))
    b_levels = list(dict.fromkeys(c.liking for c in cells))
    sel = pub[(pub["study"] == analysis.paradigm) & (pub["statistic"] == "mean") & pub["value"].notna()]
    pub_means = dict(zip(sel["condition"], sel["value"].astype(float)))
    colours = ["#4C72B0", "#DD8452", "#55A868", "#8172B3"]
    fig, ax = plt.subplots(figsize=(max(6.0, 2.2 * len(a_levels) + 1.5), 4.8))
    width = 0.8 / max(len(b_levels), 1)
    shown_pub = False
    top = 0.0
    for j, b in enumerate(b_levels):
        for i, a in enumerate(a_levels):
            c = next((c for c in cells if c.favor == a and c.liking == b), None)
            x = i - 0.4 + width * (j + 0.5)
            if c is None or not c.n:
                ax.text(x, 0.02, "no data", ha="center", va="bottom", fontsize=8, rotation=90)
                continue
            first = not any(getattr(h, "get_label", lambda: "")() == f"{b_name} = {b.replace('_', ' ')}"
                            for h in ax.containers)
            ax.bar(x, c.mean, width=width * 0.9, color=colours[j % len(colours)], alpha=0.85,
                   label=f"{b_name} = {b.replace('_', ' ')}" if first else None)
            ax.errorbar(x, c.mean, yerr=[[c.mean - c.ci_low], [c.ci_high - c.mean]], fmt="none", ecolor="black",
                        capsize=4, lw=1.1)
            y_label = c.ci_high if np.isfinite(c.ci_high) else c.mean  # n = 1: no CI
            ax.text(x, y_label + 0.05, f"n = {c.n}", ha="center", va="bottom", fontsize=8)
            top = max(top, y_label)
            pm = pub_means.get(f"{a}_{b}")
            if pm is not None:
                ax.plot(x, pm, marker="D", markersize=8, markerfacecolor="white", markeredgecolor="#C44E52",
                        markeredgewidth=2, linestyle="none", label=None if shown_pub else "original study (published)")
                shown_pub = True
                top = max(top, pm)
    ax.set_xticks(range(len(a_levels)))
    ax.set_xticklabels([_wrap(a) for a in a_levels], fontsize=9)
    ax.set_xlim(-0.5, len(a_levels) - 0.5)  # every declared cell, those without data too
    ax.set_ylim(0, top * 1.2 + 0.2)
    ax.set_ylabel(f"mean {analysis.outcome} (95% CI)")
    ax.set_xlabel(a_name)
    ax.set_title(_titled(label, f"{analysis.paradigm}, Experiment {analysis.experiment}\nN = {analysis.n} analysed; "
                                f"{analysis.n_excluded} excluded, {analysis.n_withdrawn} withdrawn"), fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def plot_interaction(analysis: ExperimentAnalysis, path: Union[str, Path], dpi: int = 150,
                     label: str = "") -> Path:
    """Save a PNG of a declared technique x price model: compliance with and without the
    technique at each price (pooled over the other factor, Wilson 95% CIs), with the
    ratio of odds ratios in the title.

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> import pandas as pd
    >>> from analysis.stats.factorial import technique_by_price
    >>> from analysis.results import ChiSquareResult, ExperimentAnalysis
    >>> cells = [('1', 'tna', 12), ('1', 'control', 6), ('5', 'tna', 4), ('5', 'control', 4)]  # complied of 16
    >>> df = pd.DataFrame([dict(price=p, technique=t, complied=int(i < k), excluded=0, data_consent=1)
    ...                    for p, t, k in cells for i in range(16)])
    >>> model = technique_by_price(df, reason=None)
    >>> res = ExperimentAnalysis('pollock1998', 1, 'example', (), (), ChiSquareResult(float('nan'), 1, 64, float('nan')),
    ...                          None, 64, 0, 0, interaction=model)
    >>> plot_interaction(res, tmp / 'tna.png').name
    'tna.png'
    """
    from analysis.stats.binary import wilson_ci
    model = analysis.interaction
    effects = list(model.simple_effects)
    fig, ax = plt.subplots(figsize=(max(5.0, 2.4 * len(effects) + 1.5), 4.6))
    for j, (who, colour) in enumerate(((model.treatment, "#4C72B0"), (model.control, "#8C8C8C"))):
        for i, e in enumerate(effects):
            k, n = ((e.complied_treatment, e.n_treatment) if j == 0 else (e.complied_control, e.n_control))
            if not n:
                continue
            rate = k / n
            lo, hi = wilson_ci(k, n)[:2]
            x = i - 0.2 + 0.4 * j
            ax.bar(x, rate, width=0.38, color=colour, alpha=0.9, label=who if i == 0 else None)
            ax.errorbar(x, rate, yerr=[[rate - lo], [hi - rate]], fmt="none", ecolor="black", capsize=4, lw=1.1)
            ax.text(x, hi + 0.03, f"{k}/{n}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(effects)))
    ax.set_xticklabels([f"price = {e.price}" for e in effects])
    ax.set_ylim(0, 1.12)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_ylabel("complied (95% CI, pooled over reasons)")
    term = model.interaction
    if getattr(term, "method", "wald") == "wald":
        test = (f"ratio of odds ratios = {format_number(term.estimate)}, 95% CI [{format_number(term.ci_low)}, "
                f"{format_number(term.ci_high)}], {format_p(term.p)}")
    else:  # separation: the ratio has no estimate, the interaction's LR test stands
        test = f"ratio of odds ratios not estimable; LR χ²(1) = {format_number(term.lr_chi2)}, {format_p(term.lr_p)}"
    ax.set_title(_titled(label, "") + f"{analysis.paradigm}, Experiment {analysis.experiment}: technique x price\n"
                 + test, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="upper right", fontsize=8, frameon=False, title="technique", title_fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def plot_targets(analyses, path: Union[str, Path]) -> list[Path]:
    """The files :func:`plot_analyses` writes for ``analyses`` at ``path``, in order.

    Examples
    --------
    >>> import paradigms
    >>> from analysis.stats.counts import analyze_count_plan
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> import dataclasses
    >>> from analysis.stats.binary import analyze_experiment
    >>> from analysis.load.synthetic import frame_from_counts
    >>> counts = analyze_count_plan(frame_from_tickets(), paradigms.get('regan1971').experiment(1))
    >>> counts = dataclasses.replace(counts, paradigm='regan1971', experiment=1)
    >>> ditf = analyze_experiment(frame_from_counts('cialdini1975', 1, {'rejection_moderation': (9, 12)}), 'cialdini1975', 1, warn=False)
    >>> [p.name for p in plot_targets([counts], 'fig.png')], [p.name for p in plot_targets([ditf, counts], 'fig.png')]
    (['fig.png'], ['fig.png', 'fig-regan1971-e1.png'])
    """
    from analysis.stats.counts import CountAnalysis
    path = Path(path)
    binary = [a for a in analyses if isinstance(a, ExperimentAnalysis)]
    counts = [a for a in analyses if isinstance(a, CountAnalysis)]
    out = [path] if binary else []
    out += [path.with_name(f"{path.stem}-{a.paradigm}-e{a.experiment}-interaction{path.suffix}")
            for a in binary if a.interaction is not None]
    out += [path if not binary and len(counts) == 1 else
            path.with_name(f"{path.stem}-{a.paradigm}-e{a.experiment}{path.suffix}") for a in counts]
    return out


#: How the image files a plot may replace begin (PNG, PDF, SVG, JPEG).
_IMAGE_MAGIC = (b"\x89PNG", b"%PDF", b"<?xml", b"<svg", b"\xff\xd8\xff")


def check_plot_targets(analyses, path: Union[str, Path], force: bool = False) -> list[Path]:
    """Refuse (``AnalysisError``) to replace a file without ``force``, and anything but an image with it.

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> import paradigms
    >>> from analysis.stats.counts import analyze_count_plan
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> res = analyze_count_plan(frame_from_tickets(), paradigms.get('regan1971').experiment(1))
    >>> from analysis.plots.rates import plot_analyses
    >>> _ = plot_analyses([res], tmp / 'fig.png')
    >>> from analysis.errors import AnalysisError
    >>> try: check_plot_targets([res], tmp / 'fig.png')
    ... except AnalysisError as e: print(str(e).replace(str(tmp), 'TMP'))
    TMP/fig.png: already exists (use --force to replace an earlier plot)
    >>> [p.name for p in check_plot_targets([res], tmp / 'fig.png', force=True)]
    ['fig.png']
    """
    targets = plot_targets(analyses, path)
    for t in targets:
        check_plot_file(t, force)
    return targets


def _titled(label: str, title: str) -> str:
    """A plot title headed by the data's origin (SIMULATED DATA, PILOT DATA), if any."""
    if not label:
        return title
    head = label.split(":")[0]
    return f"{head} (not participants)\n{title}" if head == "SIMULATED DATA" else f"{head}\n{title}"


def check_plot_file(t: Union[str, Path], force: bool = False, example: str = "compliance.png") -> Path:
    """Refuse (``AnalysisError``) a folder, an existing file without ``force``, and anything but an
    image with it; the one-file check behind :func:`check_plot_targets`."""
    from analysis.errors import AnalysisError
    t = Path(t)
    if t.is_dir():
        raise AnalysisError(f"{t}: is a folder; give --plot a file name such as {t / example}")
    formats = ("png", "svg", "pdf", "jpg", "jpeg", "tif", "tiff", "eps", "ps", "webp", "gif")
    if t.suffix.lower().lstrip(".") not in formats:   # issue 22.6: was an internal error from matplotlib
        raise AnalysisError(f"--plot {t}: not an image file name; end it in .{', .'.join(formats[:3])} or another "
                            "image format, e.g. " + example)
    if not (t.exists() or t.is_symlink()):
        return t
    if not force:
        raise AnalysisError(f"{t}: already exists (use --force to replace an earlier plot)")
    try:
        with open(t, "rb") as fh:
            head = fh.read(16)
    except OSError:
        head = b""
    if t.is_symlink() or not head.lstrip().startswith(_IMAGE_MAGIC):
        raise AnalysisError(f"{t}: is not an image; --force replaces only an earlier plot")
    return t


def plot_analyses(analyses, path: Union[str, Path], labels: Optional[Sequence[str]] = None) -> list[Path]:
    """Plot whatever ``analyze`` returned: the binary experiments in one figure at ``path``;
    each count analysis in its own (``path`` itself if it is the only figure, else
    ``NAME-PARADIGM-eN.png`` beside it); :func:`plot_targets` lists the files.

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> import paradigms
    >>> from analysis.stats.counts import analyze_count_plan
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> res = analyze_count_plan(frame_from_tickets(), paradigms.get('regan1971').experiment(1))
    >>> [p.name for p in plot_analyses([res], tmp / 'fig.png')]
    ['fig.png']
    """
    from analysis.stats.counts import CountAnalysis
    targets = iter(plot_targets(analyses, path))
    label_of = {id(a): lab for a, lab in zip(analyses, labels or [""] * len(analyses))}
    binary = [a for a in analyses if isinstance(a, ExperimentAnalysis)]
    counts = [a for a in analyses if isinstance(a, CountAnalysis)]
    out = []
    if binary:
        out.append(plot_rates(binary, next(targets), labels=[label_of[id(a)] for a in binary]))
    for a in binary:
        if a.interaction is not None:
            out.append(plot_interaction(a, next(targets), label=label_of[id(a)]))
    for a in counts:
        out.append(plot_counts(a, next(targets), label=label_of[id(a)]))
    return out
