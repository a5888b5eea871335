"""``compliance report``: write one self-contained HTML page (see :mod:`analysis.report`)."""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help="write a self-contained HTML report of session data or of a published study",
        description="Write one HTML page that opens offline in any browser: the study, the data (with each "
                    "file's SHA-256), who was analysed, compliance by condition, the confirmatory tests and, "
                    "where they apply, the replication verdicts, the pooled analysis and the power of the "
                    "design; then the codebook and the command that makes the page again. Given a study id "
                    "instead of data, the page reproduces the published statistics.")
    p.add_argument("sources", nargs="+", metavar="PATH_OR_STUDY",
                   help="session CSV file(s) or folder(s); or one study id (e.g. cialdini1975) for the "
                        "published study without data")
    p.add_argument("--experiment", type=int, metavar="N", help="with a study id: which experiment (default: the first)")
    p.add_argument("--out", required=True, metavar="FILE.html", help="the HTML file to write (never replaced without --force)")
    p.add_argument("--force", action="store_true", help="replace an earlier report at --out (never any other file)")
    p.add_argument("--preregistration", metavar="PREREG.md",
                   help="with data: list every deviation from this pre-registration (found beside the data by the "
                        "schedule's SHA-256 when not given)")
    p.set_defaults(handler=cmd_report)


#: The line every page ``compliance report`` writes carries in its head (``--force`` replaces only these).
REPORT_MARKER = b'<meta name="generator" content="compliance-toolkit">'


def written_by_report(path) -> bool:
    """Whether ``path`` is a page this command wrote: an HTML file whose head (first 4 KiB) carries
    :data:`REPORT_MARKER`.  A session CSV, a sidecar, a log or a user's own page is not.

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (tmp / "mine.html").write_text("<!DOCTYPE html><html><head><title>x</title></head></html>")
    >>> written_by_report(tmp / "mine.html")
    False
    >>> _ = (tmp / "r.html").write_bytes(b"<!DOCTYPE html>\\n<head>\\n" + REPORT_MARKER + b"\\n</head>")
    >>> written_by_report(tmp / "r.html")
    True
    """
    path = Path(path)
    if not path.is_file() or path.is_symlink():
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.lstrip().lower().startswith(b"<!doctype html") and REPORT_MARKER in head


def _is_study(sources) -> bool:
    import paradigms

    return len(sources) == 1 and not Path(sources[0]).exists() and sources[0] in paradigms.names()


def cmd_report(args: argparse.Namespace, out=None) -> int:
    """Handler of ``compliance report``; returns the exit status (0)."""
    from analysis.errors import AnalysisError
    from analysis.report import build_report, build_study_report, write_report

    out = out or sys.stdout
    target = Path(args.out)
    # refuse a bad output path before any work: nothing is written on failure
    if target.is_dir():
        raise AnalysisError(f"--out {target}: is a folder; give a file name, e.g. {target / 'report.html'}")
    if target.exists() and not args.force:
        raise AnalysisError(f"--out {target}: already exists (use --force to replace an earlier report)")
    if target.exists() and not written_by_report(target):
        raise AnalysisError(f"--out {target}: exists and was not written by 'compliance report'; --force replaces "
                            "only an earlier report (nothing written)")
    if not (target.parent if str(target.parent) else Path(".")).is_dir():
        raise AnalysisError(f"--out {target}: the folder {target.parent} does not exist")
    from analysis.records.paths import public_argument

    # the page is shared: the data path as typed may carry a user name (issue 22.8)
    command = "compliance report " + " ".join(shlex.quote(public_argument(s)) for s in args.sources)
    if args.experiment is not None:
        command += f" --experiment {args.experiment}"
    command += f" --out {shlex.quote(target.name)}"
    if _is_study(args.sources):
        report = build_study_report(args.sources[0], args.experiment, command=command)
    else:
        if args.experiment is not None:
            raise AnalysisError("--experiment goes with a study id; with data the experiment is read from the files")
        report = build_report(*args.sources, command=command)
        from analysis.power.adherence import adherence_section  # issue 24.5

        report = adherence_section(report, getattr(args, "preregistration", None), args.sources)
    path = write_report(report, target, force=args.force)
    out.write(f"report written to {path}\n")
    return 0
