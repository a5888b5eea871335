"""``compliance``: the toolkit's one command.

    compliance list
    compliance schedule ID [--experiment N] --participants N --seed S --out FILE
    compliance run ID [--experiment N] --schedule FILE --site S --experimenter E
    compliance simulate ID [--experiment N] --participants N --seed S [--mode data-only|visual]
    compliance protocol ID
    compliance analyze PATH... [--json] [--plot FILE]
    compliance reproduce STUDY [--experiment N] [--json]

Every error the toolkit reports (a :class:`~paradigms.errors.ComplianceError`,
or the machine refusing a file: an ``OSError``) is one line on stderr
(``compliance: error: ...``) and exit code 2; nothing is written or overwritten
when a command fails on bad input.  Anything else is a bug: its traceback is
shown, with a line saying so, and the exit code is 70 (``EX_SOFTWARE``).
"""
from __future__ import annotations

import argparse
import math
import traceback
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

from . import __version__, all_paradigms, get
from . import limits
from .errors import ComplianceError

EXIT_BAD_INPUT = 2
#: a bug (an exception that is not the toolkit's own): sysexits' EX_SOFTWARE
EXIT_BUG = 70


class CLIError(ComplianceError):
    """A problem with what the user asked for; printed as one line."""


class Cancelled(Exception):
    """The user stopped the command (the start dialog was cancelled): said in one line, not an error."""


def _experiment(paradigm, value: Optional[int]) -> int:
    return paradigm.experiments[0].number if value is None else paradigm.experiment(value).number


def _parse_rates(items: Sequence[str]) -> dict[str, float]:
    rates = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        if not sep:
            raise CLIError(f"--rate {item!r}: expected NAME=VALUE, e.g. rejection_moderation=0.5")
        try:
            p = float(value)
        except ValueError:
            raise CLIError(f"--rate {item!r}: {value!r} is not a number") from None
        if not math.isfinite(p):   # issue 22.6: 1e308 passed, and failed deep in numpy
            raise CLIError(f"--rate {item!r}: {value!r} is not a finite number")
        rates[name.strip()] = p  # the paradigm's model checks the range (a probability, a mean, ...)
    return rates


# --------------------------------------------------------------------------- #
def cmd_list(args) -> int:
    for p in all_paradigms():
        print(f"{p.id:<14} {p.title}  [{p.setting}, {p.outcome} outcome]")
        print(f"{'':<14} {p.citation}")
        for e in p.experiments:
            conds = ", ".join(f"{c.name}{'*' if c.role == 'treatment' else ''}" for c in e.conditions)
            print(f"{'':<14}   experiment {e.number}: {e.title}")
            print(f"{'':<14}     conditions: {conds}")
        print()
    print("* treatment condition")
    return 0


def cmd_schedule(args) -> int:
    from .engine.sessions import create_schedule
    p = get(args.paradigm)
    exp = _experiment(p, args.experiment)
    if not str(args.out).strip() or Path(args.out).name in ("", ".", ".."):   # issue 22.6
        raise CLIError(f"--out {args.out!r}: give a file name for the schedule, e.g. schedules/{p.id}.csv")
    sched = create_schedule(p, exp, args.participants, args.seed, args.out)
    counts: dict[str, int] = {}
    for s in sched.slots:
        counts[s.condition] = counts.get(s.condition, 0) + 1
    print(f"wrote {sched.path} ({len(sched.slots)} slots, {max(s.block for s in sched.slots)} blocks)")
    w = max(len(c) for c in counts)
    for c, n in counts.items():
        print(f"  {c:<{w}}  {n}")
    note = partial_block_note(sched, [c.name for c in p.experiment(exp).conditions])
    if note:
        print(note)
    print(f"SHA-256 {sched.sha256}  (also in {sched.path.name}.sha256: pre-register this)")
    return 0


def partial_block_note(schedule, conditions) -> str:
    """A sentence when the schedule's last block is partial: which conditions it lacks, so the design is
    unbalanced by one slot in each of them; ``""`` when every block is whole.

    >>> from types import SimpleNamespace as S
    >>> slots = [S(block=1, condition=c) for c in "abc"] + [S(block=2, condition="b")]
    >>> partial_block_note(S(slots=slots), ["a", "b", "c"])
    'note: the last block (block 2) is partial: it holds 1 of the 3 conditions, so a and c have one slot fewer than b; for equal cells schedule a multiple of 3 participants (3 or 6)'
    """
    last = max(s.block for s in schedule.slots)
    held = {s.condition for s in schedule.slots if s.block == last}
    short = [c for c in conditions if c not in held]
    if not short:
        return ""
    k = len(conditions)
    n = len(schedule.slots)
    below, above = (n // k) * k, (n // k + 1) * k
    sizes = f"{below} or {above}" if below else f"{above}"
    return (f"note: the last block (block {last}) is partial: it holds {len(held)} of the {k} conditions, so "
            f"{' and '.join(short) if len(short) < 3 else ', '.join(short)} "
            f"{'has' if len(short) == 1 else 'have'} one slot fewer than "
            f"{' and '.join(c for c in conditions if c in held)}; for equal cells schedule a multiple of {k} "
            f"participants ({sizes})")


def _ask_missing(args, paradigm, experiment: int) -> int:
    """The Qt start dialog for whatever the flags did not give; the experiment to run.

    The dialog checks what is typed (:func:`paradigms.screens.dialog.validate_start`) and
    stays open, showing what is wrong, until the input is valid or it is cancelled."""
    fields = {"schedule": args.schedule or "", "site": args.site or "", "experimenter": args.experimenter or ""}
    if all(fields.values()):
        return experiment
    if not os.environ.get("DISPLAY") and sys.platform.startswith("linux"):
        missing = ", ".join(f"--{k}" for k, v in fields.items() if not v)
        raise CLIError(f"no screen for the start dialog; give {missing} on the command line")
    from .screens.dialog import StartCancelled, ask_start

    def on_error(errors) -> None:
        for k, v in errors.items():
            print(f"compliance: start dialog: {k}: {v}", file=sys.stderr, flush=True)
    try:
        start = ask_start(paradigm, experiment=experiment, pilot=args.pilot, on_error=on_error, **fields)
    except StartCancelled as exc:
        raise Cancelled(str(exc)) from None
    args.schedule, args.site, args.experimenter = start.schedule, start.site, start.experimenter
    return start.experiment


def _schedule_experiment(args, paradigm) -> int:
    """The experiment ``run`` runs: the schedule's own (its ``.meta.json``) when it says, else ``--experiment``
    (a schedule is made for one experiment; a different ``--experiment`` is overridden, and said so)."""
    from .screens.dialog import schedule_experiment  # no Qt, no PsychoPy: reads the schedule's meta file
    number = schedule_experiment(args.schedule) if args.schedule else None
    if number is None:
        return _experiment(paradigm, args.experiment)
    if args.experiment is not None and int(args.experiment) != number:
        print(f"compliance: note: {args.schedule} is a schedule for experiment {number}; running experiment "
              f"{number}, not {args.experiment}", file=sys.stderr)
    return paradigm.experiment(number).number


def _window_size(args) -> Optional[tuple[int, int]]:
    if getattr(args, "window_size", None) is None:
        return None
    from .screens.layout import parse_size  # no PsychoPy import: a plain parser
    return parse_size(args.window_size)


def _check_screen(command: str) -> None:
    """Before anything is written: PsychoPy to draw the window (no display helps without it), and a
    display to open it on."""
    try:
        import psychopy  # noqa: F401
    except ImportError:
        raise CLIError("PsychoPy is not installed, and the session screens need it: install the session extra, "
                       "pip install 'compliance-toolkit[session]' (analysis needs no PsychoPy)") from None
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise CLIError(f"no display to open the session window on; on a machine without a screen run it under "
                       f"a virtual one: xvfb-run -a compliance {command} ...")


def cmd_run(args) -> int:
    p = get(args.paradigm)
    _check_session(args.session)
    exp = _schedule_experiment(args, p)
    size = _window_size(args)
    refusal = None
    if args.schedule:  # a bad schedule is named first; reading it writes nothing
        from .engine.schedule import load_schedule
        try:
            load_schedule(args.schedule, p, exp)
        except ComplianceError as exc:
            refusal = exc
    try:
        _check_screen("run")
    except CLIError:
        if refusal is not None:
            raise refusal from None  # no screen to show it on: the terminal says it
        raise
    if refusal is None:
        exp = _ask_missing(args, p, exp)
    # the window first, with a "Loading..." frame; the session's checks, files and screens are
    # built behind it and the session takes this window over (paradigms.screens.window)
    from .screens.window import close_early, open_early, show_refusal
    fullscreen = not (args.windowed or size)
    open_early(size or (1280, 800), fullscreen=fullscreen)
    try:
        if refusal is not None:
            raise refusal
        from .engine.sessions import run_session  # after the window: it is shown sooner
        from .screens.registry import present
        res = run_session(p, exp, args.schedule, args.site, args.experimenter, args.data_dir,
                          session=args.session, fullscreen=fullscreen, pilot=args.pilot,
                          size=size or (1280, 800), on_recovery=_print_recovery, present=present)
    except ComplianceError as exc:
        # every reason run refuses is on the screen, in sentences, until Esc (a tablet has no terminal)
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if os.environ.get("COMPLIANCE_REFUSAL_SCREEN", "1") != "0":  # 0: scripts that read only the exit code
            show_refusal(msg, screenshot=os.environ.get("COMPLIANCE_REFUSAL_SHOT"))
        raise
    finally:
        close_early()  # only if a check failed before the session took the window
    print(f"session {res.status}: {res.rows} participant{'' if res.rows == 1 else 's'} in {res.csv_path}")
    return 0


def cmd_simulate(args) -> int:
    from .engine.sessions import simulate_sites, sites_sharing_seed
    p = get(args.paradigm)
    exp = _experiment(p, args.experiment)
    if args.participants < 1:
        raise CLIError(f"--participants must be at least 1, not {args.participants}")
    limits.check("--participants", args.participants, limits.PARTICIPANTS)
    rates = _parse_rates(args.rate)
    _check_count_means(p, rates)
    _check_session(args.session)
    if args.site_sd is not None and math.isfinite(args.site_sd):
        limits.check("--site-sd", args.site_sd, limits.SITE_SD)
    time_scale = 1.0 if args.real_time else args.time_scale
    if not (math.isfinite(time_scale) and time_scale > 0):
        raise CLIError(f"--time-scale must be a number above 0, not {args.time_scale}")
    size = _window_size(args)
    sites = _sites(args.site)
    present = None
    if args.mode == "visual":
        _check_screen("simulate")
        from .screens.registry import present
    same = sites_sharing_seed(args.data_dir, p, exp, args.seed, sites[0]) if len(sites) == 1 else []
    results = simulate_sites(p, exp, args.participants, args.seed, sites, args.data_dir, mode=args.mode,
                             rates=rates, time_scale=time_scale, session=args.session,
                             screenshot_dir=args.screenshots, site_sd=args.site_sd,
                             window_size=size or (1280, 800), on_recovery=_print_recovery, present=present)
    for site, res in zip(sites, results):
        at = f" at site {site}" if len(sites) > 1 else ""
        if p.session.deferred_outcome:  # a mailing log: a dispatch and a later outcome record per card
            print(f"simulated {args.participants} cards{at} ({res.rows} records, {args.mode}) -> {res.csv_path}")
        else:
            print(f"simulated {res.rows} participants{at} ({args.mode}) -> {res.csv_path}")
        if not args.quiet:
            _print_summary(res.csv_path, p)
    if same:
        which = f"site {same[0]} was" if len(same) == 1 else f"sites {', '.join(same)} were"
        print(f"note: {which} simulated in {args.data_dir} with the same --seed {args.seed}: the same participants' "
              f"draws as this site's; give each site its own --seed, or simulate the sites in one "
              f"call (--site A --site B ...: a stream each)", file=sys.stderr)
    return 0


def _check_count_means(paradigm, rates: dict) -> None:
    """A count paradigm's ``--rate NAME=MEAN``: a mean count between 0 and the most a participant
    can give (Regan: 20 tickets); a larger mean cannot be drawn (issue 22.6: 1e308 was exit 70)."""
    if paradigm.outcome != "count":
        return
    design = getattr(getattr(paradigm, "session", None), "design", None)
    most = getattr(design, "max_tickets", None)
    for name, mean in rates.items():
        if most is not None and mean > most:   # below 0: the model says so
            raise CLIError(f"--rate {name}={mean:g}: a mean count must be between 0 and {most}, the most a "
                           f"participant can give in {paradigm.id}")


def _check_session(session) -> None:
    if session is not None:
        limits.check("--session", session, limits.SESSION)


def _sites(given) -> list:
    """The site codes of ``simulate --site`` (repeatable, or comma-separated); SIM when none."""
    sites = [s.strip() for g in (given or ["SIM"]) for s in str(g).split(",")]
    if any(not s for s in sites):
        raise CLIError(f"--site {','.join(given)!r}: an empty site code; give letters and digits")
    return sites


def _print_recovery(recovery) -> None:
    """What an earlier crash left in the data folder, as the command found and recorded it."""
    for line in recovery.lines():
        print(line, flush=True)


def _print_summary(csv_path: Path, paradigm) -> None:
    """n, complied, % and Wilson 95% CI per condition (binary paradigms)."""
    if paradigm.outcome != "binary":
        return
    import pandas as pd

    from analysis.format import ci, pct
    from analysis.load.status import ANALYSED, participant_status  # who is analysed: the one rule
    from analysis.stats.binary import wilson_ci  # the one Wilson interval
    df = pd.read_csv(csv_path)
    if paradigm.session.deferred_outcome:  # one outcome record per card whose outcome is in
        df = df[df["record"] == "outcome"]
    df = df[participant_status(df) == ANALYSED]
    w = max([len("condition")] + [len(str(c)) for c in df["condition"].unique()])
    print(f"\n{'condition':<{w}} {'n':>4} {'complied':>9} {'%':>6}   95% CI (Wilson)")
    for cond, g in df.groupby("condition", sort=False):
        n, k = len(g), int(g["complied"].sum())
        lo, hi = wilson_ci(k, n, alpha=0.05)
        print(f"{cond:<{w}} {n:>4} {k:>9} {pct(k / n):>6}   {ci(lo, hi, digits=1, percent=True, level=None)}")


def cmd_protocol(args) -> int:
    from .protocol import GENERATED_MARKER, render_protocol
    text = render_protocol(get(args.paradigm))
    if args.out:
        out = Path(args.out)
        if out.is_dir():
            raise CLIError(f"{out}: is a folder; give --out a file name, e.g. {out / (args.paradigm + '.md')}")
        if out.exists() or out.is_symlink():
            if not args.force:
                raise CLIError(f"{out}: already exists (use --force to replace a protocol this command wrote)")
            if out.is_symlink() or not out.is_file() or not _starts_with(out, GENERATED_MARKER):
                raise CLIError(f"{out}: is not a protocol generated by `compliance protocol`; "
                               "--force replaces only those")
        from .engine.store import write_text_atomic
        write_text_atomic(out, text)
        print(f"wrote {out}")
    else:
        sys.stdout.write(text)
    return 0


def _starts_with(path: Path, marker: str) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            head = fh.read(4096)
    except (OSError, UnicodeDecodeError):
        return False
    return marker in head


# --------------------------------------------------------------------------- #
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="compliance", description="Replicate classic compliance studies: "
                                 "schedule, run, simulate, analyse.")
    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("list", help="the paradigms and their experiments")
    s.set_defaults(func=cmd_list)

    def paradigm_args(s):
        s.add_argument("paradigm", metavar="PARADIGM", help="paradigm id (see `compliance list`)")
        s.add_argument("--experiment", type=int, default=None,
                   help="experiment number (default: the first; `run` takes it from the schedule)")

    s = sub.add_parser("schedule", help="write a block-randomised schedule, stamped with its SHA-256")
    paradigm_args(s)
    s.add_argument("--participants", type=int, required=True,
                   help=limits.PARTICIPANTS.help("number of slots to schedule"))
    s.add_argument("--seed", type=int, required=True, help="random seed (the same seed gives a byte-identical file)")
    s.add_argument("--out", required=True, help="schedule CSV to create (never overwritten)")
    s.set_defaults(func=cmd_schedule)

    s = sub.add_parser("run", help="run a real session on the PsychoPy screen")
    paradigm_args(s)
    s.add_argument("--schedule", help="the pre-registered schedule CSV (asked in the start dialog if omitted)")
    s.add_argument("--site", help="site code, e.g. S1 (asked in the start dialog if omitted)")
    s.add_argument("--experimenter", help="your pseudonymous code, e.g. E1 (asked in the start dialog if omitted)")
    s.add_argument("--data-dir", default="data/sessions", help="folder the session files are written to (default data/sessions)")
    s.add_argument("--session", type=int, default=None,
                   help=limits.SESSION.help("session number (default: next free)"))
    s.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    s.add_argument("--window-size", metavar="WxH", default=None,
                   help="open a window of this size in pixels (e.g. 1024x768, 800x1280 for portrait) instead "
                        "of full screen: try any tablet's shape without the device")
    s.add_argument("--pilot", action="store_true", help="mark the session as a pilot (PsychoPy convention)")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("simulate", help="simulated participants through the same session code")
    paradigm_args(s)
    s.add_argument("--participants", type=int, required=True,
                   help=limits.PARTICIPANTS.help("number of simulated participants"))
    s.add_argument("--seed", type=int, default=1, help="random seed of the schedule and the answers (default 1)")
    s.add_argument("--data-dir", default="data/sessions/sim", help="folder the simulated session is written to (default data/sessions/sim)")
    s.add_argument("--session", type=int, default=None,
                   help=limits.SESSION.help("session number (default: next free)"))
    s.add_argument("--site", action="append", default=None, metavar="SITE",
                   help="site code written to the data (letters and digits; default SIM); repeat it (or give "
                        "A,B,C) to simulate several sites in one call, each with its own stream drawn from "
                        "--seed and the site code (one site alone uses --seed as it is)")
    s.add_argument("--site-sd", type=float, default=0.0, metavar="SD",
                   help="between-site SD of the effect: the site draws u ~ N(0, SD), seeded by --site and "
                        "--seed, and every treatment condition is shifted by u: its log-odds of compliance "
                        "(binary paradigms) or the log of its mean count (regan1971); "
                        f"{limits.SITE_SD})")
    s.add_argument("--mode", choices=("data-only", "visual"), default="data-only",
                   help="data-only: no screen (default); visual: the real PsychoPy screens with scripted key presses")
    s.add_argument("--rate", action="append", metavar="NAME=VALUE",
                   help="override the simulation model (repeatable): a condition's compliance probability "
                        "for binary paradigms; a cell's (or a favor level's) mean tickets for regan1971")
    s.add_argument("--time-scale", type=float, default=0.02,
                   help="visual mode: simulated seconds are multiplied by this (default 0.02)")
    s.add_argument("--real-time", action="store_true", help="visual mode: answer at simulated real times")
    s.add_argument("--screenshots", default=None, help="visual mode: save a PNG of each screen here")
    s.add_argument("--window-size", metavar="WxH", default=None,
                   help="visual mode: the window's size in pixels (default 1280x800), e.g. 1024x768 or 800x1280")
    s.add_argument("--quiet", action="store_true", help="do not print the summary table")
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("protocol", help="print the protocol generated from the declaration")
    s.add_argument("paradigm", metavar="PARADIGM", help="paradigm id (see `compliance list`)")
    s.add_argument("--out", default=None, help="write the protocol to this file instead of printing it")
    s.add_argument("--force", action="store_true", help="replace an existing generated protocol")
    s.set_defaults(func=cmd_protocol)

    try:
        from analysis.cli import add_subcommands
    except ImportError:  # the analysis package is part of the base install; tolerate a partial checkout
        pass
    else:
        add_subcommands(sub)
    return ap


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        handler = getattr(args, "func", None) or args.handler
        return int(handler(args) or 0)
    except ComplianceError as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"compliance: error: {msg}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Cancelled as exc:
        print(f"compliance: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a folder that cannot be written, a disk that is full, ...
        where = exc.filename if exc.filename is not None else ""
        what = exc.strerror or str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"compliance: error: {where}{': ' if where else ''}{what}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "psychopy":
            raise
        print(f"compliance: error: '{args.command}' needs PsychoPy, which this install lacks; install the session "
              "extra: pip install 'compliance-toolkit[session]'", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("compliance: interrupted; everything recorded so far is saved", file=sys.stderr)
        return 130
    except Exception:  # not the toolkit's own error: a bug, shown whole
        traceback.print_exc()
        print(f"compliance: internal error: '{args.command}' failed with the exception above; this is a bug "
              "in the toolkit, not in your input: please report it with the traceback", file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
