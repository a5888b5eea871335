"""``compliance pool``: pool the sites of a multi-site replication (see :mod:`analysis.meta.pooling`)."""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "pool", help="pool the sites of a multi-site replication: random effects, forest plot",
        description="For every confirmatory contrast: each site's counts, log odds ratio and risk difference; "
                    "random-effects meta-analysis by DerSimonian-Laird, REML and Paule-Mandel (tau2, I2, H2, "
                    "Cochran's Q, a 95%% prediction interval for a new site); fixed-effect checks "
                    "(inverse-variance and Mantel-Haenszel odds ratios, Breslow-Day, logistic regression with "
                    "site as a factor). Sites come from the session files' site column.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="session CSV file(s) or folder(s) of one experiment (recursive *_data.csv)")
    p.add_argument("--table", metavar="SITES.csv",
                   help="pool a published table of sites instead of session files: one row per site and "
                        "condition, columns site, condition, complied, n (binary plans) or site, condition, "
                        "mean, sd, n (count plans); needs --study")
    p.add_argument("--study", metavar="S", help="with --table: the declared study the table follows")
    p.add_argument("--experiment", type=int, default=1, metavar="N", help="with --table: the experiment (default 1)")
    p.add_argument("--by", default="site", metavar="COLUMN",
                   help="the column that names the site (default: site)")
    p.add_argument("--method", default="reml", choices=("reml", "dl", "pm"), type=str.lower,
                   help="the headline estimator of tau2 (all three are reported; default: reml)")
    p.add_argument("--knha", action="store_true",
                   help="Hartung-Knapp-Sidik-Jonkman CI and t test (k-1 df) instead of the Wald ones")
    p.add_argument("--include-original", action="store_true",
                   help="add the original study as a marked row; report the pooled estimate with and without it")
    p.add_argument("--level", type=float, default=0.95, metavar="L",
                   help="confidence level of the CIs and prediction intervals (default 0.95)")
    p.add_argument("--plot", metavar="OUT.png",
                   help="save the forest plot as a PNG (an existing file is refused without --force)")
    p.add_argument("--force", action="store_true", help="with --plot: replace an earlier plot (only an image)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the text")
    p.set_defaults(handler=cmd_pool)


def _check_plot_target(target: Path, force: bool) -> None:
    """As ``analyze --plot``: a folder is refused; a file is replaced only with --force and only an image."""
    from analysis.errors import AnalysisError
    from analysis.plots.rates import _IMAGE_MAGIC

    if target.is_dir():
        raise AnalysisError(f"{target}: is a folder; give --plot a file name such as {target / 'forest.png'}")
    if target.exists() or target.is_symlink():
        if not force:
            raise AnalysisError(f"{target}: already exists (use --force to replace an earlier plot)")
        try:
            head = target.read_bytes()[:16]
        except OSError:
            head = b""
        if target.is_symlink() or not head.lstrip().startswith(_IMAGE_MAGIC):
            raise AnalysisError(f"{target}: is not an image; --force replaces only an earlier plot")


def cmd_pool(args: argparse.Namespace, out=None) -> int:
    """Handler of ``compliance pool``; returns the exit status (0)."""
    from analysis.errors import AnalysisError
    from analysis.meta.pooling import pool
    from analysis.results import jsonable

    out = out or sys.stdout
    if not 0.5 <= args.level < 1:
        raise AnalysisError(f"--level {args.level}: give a confidence level between 0.5 and 1, e.g. 0.95")
    if args.plot:  # refused before any work, so nothing is computed or written in vain
        folder = Path(args.plot).parent
        if not (folder if str(folder) else Path(".")).is_dir():
            raise AnalysisError(f"--plot {args.plot}: the folder {folder} does not exist")
        _check_plot_target(Path(args.plot), args.force)
    if args.table and args.paths:
        raise AnalysisError(f"--table {args.table}: give either a table or session files ({args.paths[0]}), not both")
    if args.table and not args.study:
        raise AnalysisError(f"--table {args.table}: name the study it follows with --study (e.g. --study kunz1976)")
    if not args.table and not args.paths:
        raise AnalysisError("pool: give session files or folders, or --table SITES.csv --study S")
    if args.study and not args.table:
        raise AnalysisError("--study: only with --table (session files name their study)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if args.table:
            from analysis.meta.table import pool_table

            result = pool_table(args.table, args.study, args.experiment, method=args.method, knha=args.knha,
                                level=args.level, include_original=args.include_original)
        else:
            result = pool(*args.paths, by=args.by, method=args.method, knha=args.knha,
                          include_original=args.include_original, level=args.level)
    said = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    plot = None
    if args.plot:
        from analysis.plots.forest import plot_forest

        plot = plot_forest(result, args.plot)
    if args.json:
        json.dump(jsonable(result), out, indent=2, ensure_ascii=False, allow_nan=False)
        out.write("\n")
        for w in said:
            sys.stderr.write(f"warning: {w}\n")
    else:
        out.write(str(result) + "\n")
        for w in said:
            out.write(f"warning: {w}\n")
        if plot is not None:
            out.write(f"plot saved to {plot}\n")
    return 0
