"""``compliance replicate``: did it replicate?  Every confirmatory contrast judged by every criterion.

    compliance replicate data/sessions/site1                       # study and experiment read from the data
    compliance replicate data/sessions/site1 --sesoi-h 0.2 --json
    compliance replicate data/sessions/site1 --plot verdict.png
    compliance replicate cialdini1975 --experiment 1 --counts rejection_moderation=66/130 ...
    compliance replicate cialdini1975 --experiment 3 --published genschow2021
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paradigms import limits


def register(subparsers) -> None:
    from analysis.replication import CRITERIA

    p = subparsers.add_parser(
        "replicate", help=f"replication verdicts: original and replication side by side, {len(CRITERIA)} criteria",
        description="For each confirmatory contrast, the original (data/published) beside the replication: "
                    "effects (RD, OR, Cohen's h with 95% CIs), then the verdict table, a row per criterion "
                    f"({len(CRITERIA)}: " + "; ".join(CRITERIA.values()) + "), each with what the test "
                    "found and, apart, whether that counts as the replication succeeding. "
                    "The replication is session data (study and experiment read from the files; several sites "
                    "are added into one sample, see compliance pool), counts typed in (--counts), or a "
                    "published replication (--published). Simulated data are labelled SIMULATED on every output.")
    p.add_argument("source", nargs="+", metavar="PATH_OR_STUDY",
                   help="session CSV file(s) or folder(s); or a study id (e.g. cialdini1975) with --counts or "
                        "--published")
    p.add_argument("--experiment", type=int, metavar="N",
                   help="the experiment replicated (with data: checked against the files, or chooses one)")
    p.add_argument("--counts", nargs="+", metavar="NAME=K/N",
                   help="the replication's counts per condition: complied K of N analysed, e.g. "
                        f"rejection_moderation=66/130 (N {limits.COUNT_N})")
    p.add_argument("--published", metavar="NAME",
                   help="a published replication in data/published/replications.csv, e.g. genschow2021")
    p.add_argument("--sesoi-h", type=float, metavar="H",
                   help="smallest effect of interest for the equivalence test, as Cohen's h (default: d33)")
    p.add_argument("--sesoi-rd", type=float, metavar="RD",
                   help="smallest effect of interest for the equivalence test, as a risk difference")
    p.add_argument("--preregistration", metavar="PREREG.md",
                   help="list every deviation from this pre-registration (with data: found beside the data by "
                        "the schedule's SHA-256 when not given)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--plot", metavar="OUT.png",
                   help="save the estimates (original and replication, CIs, prediction band, d33, equivalence "
                        "bounds) per contrast; an existing file is refused without --force")
    p.add_argument("--force", action="store_true", help="with --plot: replace an earlier plot (only an image)")
    p.set_defaults(handler=cmd_replicate)


def parse_counts(items) -> dict:
    """``["a=3/10", ...]`` -> ``{"a": (3, 10)}``; a one-line error naming the bad item."""
    from analysis.errors import AnalysisError

    out = {}
    for item in items:
        name, sep, kn = item.partition("=")
        k, slash, n = kn.partition("/")
        try:
            if not (sep and slash and name.strip()):
                raise ValueError
            k, n = int(k), int(n)
        except ValueError:
            raise AnalysisError(f"--counts {item!r}: expected NAME=K/N with whole numbers, e.g. "
                                "rejection_moderation=66/130") from None
        if n < 0 or not 0 <= k <= n:
            raise AnalysisError(f"--counts {item}: K = {k} must be between 0 and N = {n}")
        if n > limits.COUNT_N.value:   # issue 22.6: 30 digits were an internal error
            raise limits.LimitError(f"--counts {name.strip()}: N = {n}: {limits.COUNT_N} per condition: "
                                    f"{limits.COUNT_N.why}")
        if name.strip() in out:
            raise AnalysisError(f"--counts {item}: condition {name.strip()!r} given twice")
        out[name.strip()] = (k, n)
    return out


def cmd_replicate(args: argparse.Namespace, out=None) -> int:
    """Handler of ``compliance replicate``; returns the exit status (0)."""
    import paradigms

    from analysis.errors import AnalysisError
    from analysis.replication.verdict import replicate
    from analysis.results import jsonable

    out = out or sys.stdout
    sources = args.source
    is_study = len(sources) == 1 and not Path(sources[0]).exists() and sources[0] in paradigms.names()
    if args.plot:
        _check_plot_target(args.plot, args.force)
    if is_study:
        if args.counts is None and args.published is None:
            raise AnalysisError(f"{sources[0]}: a study id needs --counts or --published (or give a data folder)")
        if args.counts is not None and args.published is not None:
            raise AnalysisError("give --counts or --published, not both")
        if args.counts is not None and args.experiment is None:
            raise AnalysisError("--counts needs --experiment N")
        counts = parse_counts(args.counts) if args.counts is not None else None
        result = replicate(study=sources[0], experiment=args.experiment, counts=counts, published=args.published,
                           sesoi_h=args.sesoi_h, sesoi_rd=args.sesoi_rd)
    else:
        if args.counts is not None or args.published is not None:
            raise AnalysisError("--counts and --published go with a study id, not with data files")
        for s in sources:
            if not Path(s).exists():
                raise AnalysisError(f"{s}: no such file or folder, and not a study id (known: "
                                    f"{', '.join(paradigms.names())})")
        result = replicate(sources if len(sources) > 1 else sources[0], experiment=args.experiment,
                           sesoi_h=args.sesoi_h, sesoi_rd=args.sesoi_rd)
    from analysis.power.adherence import adherence_of_replication  # issue 24.5

    adherence = adherence_of_replication(getattr(args, "preregistration", None), result, sources, is_study,
                                         counts if is_study else None)
    plot = None
    if args.plot:
        from analysis.plots.replication import plot_replication

        plot = plot_replication(result, args.plot)
    if args.json:
        import json

        data = jsonable(result)
        if adherence is not None:
            data["adherence"] = adherence.to_dict()
        json.dump(data, out, indent=2, ensure_ascii=False, allow_nan=False)
        out.write("\n")
    else:
        out.write(str(result) + "\n")
        if adherence is not None:
            out.write("\n".join(adherence.lines()) + "\n")
        if plot is not None:
            out.write(f"plot saved to {plot}\n")
    return 0


def _check_plot_target(path, force: bool) -> None:
    from analysis.errors import AnalysisError
    from analysis.plots.rates import check_plot_file

    t = Path(path)
    if str(t.parent) and not t.parent.is_dir():
        raise AnalysisError(f"--plot {t}: the folder {t.parent} does not exist")
    check_plot_file(t, force, example="verdict.png")
