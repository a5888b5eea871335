"""The one number formatter: every printed number of the toolkit goes through here.

Text (APA sentences, tables), the HTML report, plots and the command line all print with these
functions, so a number reads the same wherever it is asked: one rounding rule (half-up on the
number's shortest decimal form: 1/16 = 6.25% prints as 6.3%, 0.125 as 0.13), percentages with one
decimal, p values APA-style, intervals in brackets.

A statistic never formats; a view never rounds on its own.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Optional

__all__ = ["round_half_up", "format_p", "format_number", "pct", "pct_of", "prop", "ci", "alpha_text", "is_missing"]


def is_missing(x) -> bool:
    """True for None and NaN (of any float type).

    Examples
    --------
    >>> is_missing(None), is_missing(float('nan')), is_missing(0.0)
    (True, True, False)
    """
    if x is None:
        return True
    try:
        return math.isnan(x)
    except TypeError:
        return False


def round_half_up(x: float, digits: int, scale: int = 0) -> Decimal:
    """``x`` times 10**scale rounded half-up at ``digits`` decimals, on its shortest decimal form.

    The one rounding rule of every printed number (APA sentences, ``reproduce``,
    tables, plots): 0.125 -> 0.13 (Python's ``f"{0.125:.2f}"`` gives 0.12, half to
    even on the binary value), 0.0125 -> 0.013, 12.5% -> 13%.

    Examples
    --------
    >>> str(round_half_up(0.125, 2)), str(round_half_up(0.285, 2)), str(round_half_up(0.1255, 1, scale=2))
    ('0.13', '0.29', '12.6')
    """
    d = Decimal(repr(float(x))).scaleb(scale)
    try:
        return d.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the decimal context holds: the value itself
        return d


def format_p(p: Optional[float]) -> str:
    """APA p value: ``p = .011``, ``p < .001``, ``p > .999``; no leading zero.

    Examples
    --------
    >>> format_p(0.011318), format_p(0.0004), format_p(float("nan"))
    ('p = .011', 'p < .001', 'p = NA')
    """
    if is_missing(p):
        return "p = NA"
    if p < 0.001:
        return "p < .001"
    if p > 0.999:
        return "p > .999"
    r = round_half_up(p, 3)
    if r >= Decimal("1.000"):
        return "p > .999"
    if r < Decimal("0.001"):
        return "p < .001"
    return "p = " + str(r).lstrip("0")


def format_number(x: Optional[float], digits: int = 2, leading_zero: bool = True) -> str:
    """A number with ``digits`` decimals; ``NA`` for NaN/None; APA drops the leading
    zero of quantities that cannot exceed 1 (``leading_zero=False``).

    Examples
    --------
    >>> format_number(0.125), format_number(-0.0001), format_number(0.3456, 2, leading_zero=False)
    ('0.13', '0.00', '.35')
    >>> format_number(float('nan')), format_number(float('inf'))
    ('NA', '∞')
    """
    if is_missing(x):
        return "NA"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    s = f"{round_half_up(x, digits):f}"
    if not leading_zero:
        if s.startswith(("0.", "-0.")):
            s = s.replace("0.", ".", 1)
    if s.startswith("-") and float(s) == 0:
        s = s[1:]
    return s


def pct(x: Optional[float], digits: int = 1) -> str:
    """A proportion as a percentage, half-up: ``6.3%`` for 1/16; ``NA`` when missing.

    Examples
    --------
    >>> pct(1 / 16), pct(0.5), pct(0.2, digits=0), pct(None)
    ('6.3%', '50.0%', '20%', 'NA')
    """
    return "NA" if is_missing(x) else f"{round_half_up(x, digits, scale=2):f}%"


def pct_of(k: int, n: int, digits: int = 1) -> str:
    """``k/n (p%)``, the way the toolkit prints a count of a group.

    Examples
    --------
    >>> pct_of(1, 16), pct_of(0, 0)
    ('1/16 (6.3%)', '0/0 (NA)')
    """
    return f"{k}/{n} ({pct(k / n if n else None, digits)})"


def prop(x: Optional[float], digits: int = 3) -> str:
    """A proportion (or a power, a correlation) APA-style: no leading zero.

    Examples
    --------
    >>> prop(0.7312), prop(0.0625, 2), prop(1.0, 2)
    ('.731', '.06', '1.00')
    """
    return format_number(x, digits, leading_zero=False)


def ci(lo: Optional[float], hi: Optional[float], digits: int = 2, level: Optional[float] = 0.95,
       percent: bool = False, leading_zero: bool = True) -> str:
    """An interval in brackets, with its level: ``95% CI [1.53, 9.87]``.

    ``percent`` prints both limits as percentages; ``level=None`` leaves the label out.

    Examples
    --------
    >>> ci(1.5326, 9.8679)
    '95% CI [1.53, 9.87]'
    >>> ci(0.0625, 0.25, digits=1, percent=True, level=0.6)
    '60% CI [6.3%, 25.0%]'
    >>> ci(0.1, float('nan'), level=None)
    '[0.10, NA]'
    """
    if percent:
        body = f"[{pct(lo, digits)}, {pct(hi, digits)}]"
    else:
        body = f"[{format_number(lo, digits, leading_zero)}, {format_number(hi, digits, leading_zero)}]"
    if level is None:
        return body
    return f"{format_number(level * 100, 0)}% CI {body}"


def alpha_text(alpha: float) -> str:
    """A significance level as APA prints it: at most four decimals, trailing zeros dropped down to
    two: ``.05``, ``.10``, ``.005``, ``.0167``; the one way every output prints α.

    Examples
    --------
    >>> alpha_text(0.05), alpha_text(0.1), alpha_text(0.005), alpha_text(0.05 / 3)
    ('.05', '.10', '.005', '.0167')
    """
    text = format_number(alpha, 4, leading_zero=False)
    head, _, tail = text.partition(".")
    tail = tail.rstrip("0")
    return f"{head}.{tail + '0' * max(0, 2 - len(tail))}"
