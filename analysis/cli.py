"""``compliance analyze`` and ``compliance reproduce``.

The top-level ``compliance`` command calls :func:`add_subcommands` on its argparse
subparsers; each subcommand stores its handler in ``args.handler``.  Errors are
raised as :class:`~analysis.errors.AnalysisError` (a ``ValueError``) with a
one-line message; :func:`main` prints ``error: <message>`` and returns 2.

Standalone: ``python -m analysis.cli analyze data/sessions --json``.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from typing import Optional, Sequence

__all__ = ["add_subcommands", "cmd_analyze", "cmd_reproduce", "main"]


def add_subcommands(subparsers) -> None:
    """Register ``analyze`` and ``reproduce`` on an argparse subparsers object.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog='compliance')
    >>> add_subcommands(parser.add_subparsers(dest='command'))
    >>> parser.parse_args(['reproduce', 'cialdini1975', '--experiment', '1']).experiment
    1
    """
    p = subparsers.add_parser(
        "analyze", help="rates, contrasts and tests of session CSVs",
        description="Analyse session CSVs as each paradigm's analysis plan declares. Binary outcomes "
                    "(complied or not): compliance per condition (Wilson 95% CI), every declared contrast (risk "
                    "difference, odds ratio, chi-square, Fisher, Barnard), the omnibus test and a logistic "
                    "regression, plus a declared factorial model. Count outcomes (e.g. tickets bought): cell means "
                    "with 95% CIs, the type II ANOVA, Poisson and negative binomial regressions, planned "
                    "contrasts, correlations and a threshold measure. Excluded and withdrawn participants are "
                    "counted, never tested; what cannot be computed at this sample size is said, not guessed.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="session CSV file(s) or folder(s) (recursive *_data.csv)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--plot", metavar="OUT.png", help="save a plot of the rates beside the published ones "
                   "(an existing file is refused without --force)")
    p.add_argument("--force", action="store_true", help="with --plot: replace an earlier plot (never anything "
                   "but an image)")
    p.add_argument("--include-simulated", action="store_true",
                   help="pool simulated sessions with pilot or real ones of the same experiment (refused "
                        "otherwise); every output is then labelled simulated")
    p.add_argument("--include-pilot", action="store_true",
                   help="pool pilot sessions with real ones of the same experiment (refused otherwise)")
    p.add_argument("--accept-unverified", action="store_true",
                   help="analyse data whose tamper evidence fails 'compliance verify' (refused otherwise); "
                        "every output then says UNVERIFIED and why")
    p.add_argument("--interim", nargs="?", const="", metavar="PREREG.md",
                   help="an interim look under the pre-registered sequential plan (the file, or found beside the "
                        "data by the schedule's SHA-256): which look, its boundary, stop or continue")
    p.set_defaults(handler=cmd_analyze)

    r = subparsers.add_parser(
        "reproduce", help="recompute a published study's statistics from its published counts",
        description="List each published figure of STUDY beside its recomputation, with match/mismatch at the "
                    "published precision and the method that reproduces it.")
    r.add_argument("study", metavar="STUDY", help="study id, e.g. cialdini1975")
    r.add_argument("--experiment", type=int, metavar="N", help="one experiment only")
    r.add_argument("--json", action="store_true", help="print JSON instead of the table")
    r.add_argument("--search", action="store_true",
                   help="with --experiment: enumerate every cell-count table consistent with the published N and "
                        "statistics at their printed precision (Pearson χ² with/without Yates, N − 1), or say that "
                        "none fits")
    r.set_defaults(handler=cmd_reproduce)

    from analysis.commands import register_all

    register_all(subparsers)


def _emit_json(objs, out, extra=None) -> None:
    from analysis.results import jsonable

    data = [jsonable(o) for o in objs]
    for d, more in zip(data, extra or ()):
        if isinstance(d, dict):
            d.update(more)
    json.dump(data[0] if len(data) == 1 else data, out, indent=2, ensure_ascii=False, allow_nan=False)
    out.write("\n")


def _interim(args: argparse.Namespace, loaded, analyses):
    """``--interim``: the look taken and put on record (issue 24: every look is on the data folder's record
    chain); the text, or with ``--json`` ((study, experiment), the object); None without ``--interim``."""
    if getattr(args, "interim", None) is None:
        return None
    from analysis.power.interim import interim_json, interim_text

    return (interim_json if args.json else interim_text)(args.interim, loaded, analyses)


def cmd_analyze(args: argparse.Namespace, out=None) -> int:
    """Handler of ``compliance analyze``; returns the exit status (0).

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> from analysis.load.synthetic import rows_from_counts, write_session_csv
    >>> _ = write_session_csv(tmp / "study-cialdini1975_exp-1_site-S1_session-1_data.csv", rows_from_counts("cialdini1975", 1, {"rejection_moderation": (25, 40), "exposure_control": (12, 40), "smaller_request_only": (13, 40)}, site="S1"))
    >>> import argparse, io
    >>> out = io.StringIO()
    >>> cmd_analyze(argparse.Namespace(paths=[str(tmp)], json=False, plot=None), out=out)
    0
    >>> print(out.getvalue().splitlines()[0])
    cialdini1975, Experiment 1: Rejection-moderation vs exposure and smaller-request-only controls
    """
    from analysis.api import analyze
    from analysis.load.sessions import load_sessions, origin_label
    from analysis.records.verify import check_evidence

    out = out or sys.stdout
    unverified = check_evidence(args.paths, getattr(args, "accept_unverified", False))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_sessions(*args.paths, include_simulated=getattr(args, "include_simulated", False),
                               include_pilot=getattr(args, "include_pilot", False))
        analyses = analyze(loaded)
    origins = [loaded.origin_of(a.paradigm, a.experiment) for a in analyses]
    labels = [origin_label(o) for o in origins]
    if unverified:
        flag = (f"UNVERIFIED DATA: analysed with --accept-unverified although {len(unverified)} check(s) of "
                f"'compliance verify' fail, e.g. {unverified[0]}")
        labels = [f"{flag}\n{label}" if label else flag for label in labels]
    if args.plot:
        from analysis.plots.rates import check_plot_targets, plot_analyses

        check_plot_targets(analyses, args.plot, force=getattr(args, "force", False))
    interim = _interim(args, loaded, analyses)     # the look goes on record (or fails) before anything is written
    if args.plot:
        plots = plot_analyses(analyses, args.plot, labels=labels)
    if args.json:
        extra = [{"data_origin": list(o), "simulated": "simulated" in o, "unverified": list(unverified)}
                 for o in origins]
        if interim is not None:  # issue 24.3: one object, under the experiment's "interim"
            key, obj = interim
            extra[[(a.paradigm, a.experiment) for a in analyses].index(key)]["interim"] = obj
        _emit_json(analyses, out, extra)
    else:
        for a, label in zip(analyses, labels):
            out.write((label + "\n" if label else "") + str(a) + "\n\n")
        if interim is not None:  # issue 24.3: analysis/power/interim.py
            out.write(interim + "\n")
        for w in dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught):
            out.write(f"warning: {w}\n")
        for p in (plots if args.plot else ()):
            out.write(f"plot saved to {p}\n")
    if args.json:
        for w in dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught):
            sys.stderr.write(f"warning: {w}\n")
    return 0


def cmd_reproduce(args: argparse.Namespace, out=None) -> int:
    """Handler of ``compliance reproduce``; returns the exit status (0).

    Examples
    --------
    >>> import argparse, io
    >>> out = io.StringIO()
    >>> cmd_reproduce(argparse.Namespace(study='cialdini1975', experiment=1, json=False), out=out)
    0
    >>> out.getvalue().splitlines()[0][:40]
    'cialdini1975, Experiment 1: 6 match, 0 m'
    """
    from analysis.replication.reproduce import reproduce

    out = out or sys.stdout
    if getattr(args, "search", False):
        from analysis.replication.consistency import search_counts
        from analysis.errors import AnalysisError

        if args.experiment is None:
            raise AnalysisError("--search needs --experiment N")
        found = search_counts(args.study, args.experiment)
        if args.json:
            _emit_json([found], out)
        else:
            out.write(str(found) + "\n")
        return 0
    reps = reproduce(args.study, args.experiment)
    if args.json:
        _emit_json(reps, out)
    else:
        for r in reps:
            out.write(str(r) + "\n\n")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Standalone entry point: ``python -m analysis.cli {analyze,reproduce} ...``.

    Examples
    --------
    >>> import contextlib, io
    >>> buf = io.StringIO()
    >>> with contextlib.redirect_stdout(buf): status = main(['reproduce', 'cialdini1975', '--experiment', '1'])
    >>> status, buf.getvalue().splitlines()[0][:40]
    (0, 'cialdini1975, Experiment 1: 6 match, 0 m')
    """
    from analysis.errors import AnalysisError

    parser = argparse.ArgumentParser(prog="compliance", description="Analysis of compliance replications.")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subcommands(sub)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except AnalysisError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
