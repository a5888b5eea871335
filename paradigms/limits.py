"""Every size a command line can ask for, its limit and why, in one place (issue 22.7).

A size is checked before any work starts; the help text, the check and the error
message all read the number from here, so they cannot disagree.  :func:`check`
raises :class:`LimitError` (a :class:`~paradigms.errors.UsageError`: one line, exit
code 2) naming the flag, the value, the limit and the reason.

``analysis`` imports these (``paradigms`` never imports ``analysis``).

>>> check("--simulations", 10 ** 8, SIMULATIONS)
Traceback (most recent call last):
...
paradigms.limits.LimitError: --simulations 100000000: at most 10,000: the Monte Carlo standard error of a power is then at most 0.005, half the last digit printed
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from .errors import UsageError

__all__ = ["Limit", "LimitError", "check", "jobs_limit", "exact_n_limit", "PARTICIPANTS", "SESSION",
           "EXACT_N", "EXACT_TABLES", "SCAN_TABLES", "SIMULATIONS", "SIMULATED_N", "COUNT_N", "SITE_SD",
           "MULTISITE_SITES", "MULTISITE_TABLES"]


class LimitError(UsageError):
    """A size given on the command line is beyond its stated limit."""


@dataclass(frozen=True)
class Limit:
    """The largest value a size may take, and the reason, as the help text and the error say it."""

    value: int
    why: str

    def __str__(self) -> str:
        return f"at most {self.value:,}"

    def help(self, text: str) -> str:
        """``text`` with the limit appended, for an argparse ``help=``.

        >>> SIMULATIONS.help("simulated data sets (default 1000)")
        'simulated data sets (default 1000; at most 10,000)'
        """
        return (text[:-1] + f"; {self}" + ")") if text.endswith(")") else f"{text} ({self})"


#: Participants of one schedule (``schedule``/``simulate --participants``).
PARTICIPANTS = Limit(100_000, "a schedule is one site's pre-registered list of slots; split a larger study "
                              "into several schedules")

#: A session number (``run``/``simulate --session``).
SESSION = Limit(999_999, "session numbers count one site's sessions; a larger number is a typing slip")

#: Exact power of two proportions enumerates every table (k1, k2): (n1 + 1) x (n2 + 1) of them.
#: EXACT_N per group at equal allocation (the same number as the scan's largest n).
EXACT_N = Limit(2_000, "exact power enumerates every (n1+1) x (n2+1) table: beyond about 4,000,000 tables "
                       "it takes minutes and gigabytes")
EXACT_TABLES = (EXACT_N.value + 1) ** 2

#: The exact sample-size scan evaluates every n from 2 up: the sum of the tables of every n.
SCAN_TABLES = Limit(150_000_000, "the exact sample-size scan enumerates the tables of every n from 2 up; "
                                 "beyond 150,000,000 tables in all it runs for minutes")

#: Simulated power (factorial and count plans).
SIMULATIONS = Limit(10_000, "the Monte Carlo standard error of a power is then at most 0.005, half the last "
                            "digit printed")
SIMULATED_N = Limit(10_000, "each of the simulated data sets is drawn and fitted at this size per condition")

#: A replication's counts typed in (``replicate --counts NAME=K/N``): N per condition.
COUNT_N = Limit(1_000_000, "the exact tests and intervals are computed over every count up to N; no "
                           "replication is larger")

#: Between-site SD of the effect, on the log-odds or log-mean scale (``simulate --site-sd``).
SITE_SD = Limit(10, "an SD of 10 (log-odds, or log mean count) already puts every site at all or nothing")


#: Simulated power of a multi-site replication (``power --sites K``): K, and the site tables in all.
MULTISITE_SITES = Limit(1_000, "each simulated replication pools every site by REML; a replication of more than "
                               "1,000 sites is no design a team runs")
MULTISITE_TABLES = Limit(5_000_000, "--simulations x --sites site tables are drawn and pooled; beyond 5,000,000 "
                                    "(10,000 replications of 500 sites) a run takes minutes on one machine")


def check(flag: str, value, limit: Limit, unit: str = "") -> int:
    """``value`` if it is within ``limit``; else :class:`LimitError`, one line.

    >>> check("--n", 30, EXACT_N)
    30
    """
    if value > limit.value:
        raise LimitError(f"{flag} {value}{unit}: {limit}: {limit.why}")
    return value


def jobs_limit() -> int:
    """The largest ``--jobs``: the cores of this machine (more processes only queue for them).

    >>> jobs_limit() >= 1
    True
    """
    return os.cpu_count() or 1


def exact_n_limit(ratio: float = 1.0) -> int:
    """The largest n1 (n2 = ceil(ratio x n1)) whose exact power stays within :data:`EXACT_TABLES`.

    >>> exact_n_limit(1.0), exact_n_limit(2.0)
    (2000, 1414)
    """
    ratio = float(ratio) if ratio and math.isfinite(ratio) and ratio > 0 else 1.0
    n = int(math.sqrt(EXACT_TABLES / ratio))
    while n > 2 and (n + 1) * (max(2, math.ceil(ratio * n - 1e-9)) + 1) > EXACT_TABLES:
        n -= 1
    return n
