"""The one search for the smallest n at which a simulated power reaches a target.

Simulated power is a step function of n with Monte-Carlo error; with common seeds at every n it
is nearly monotone.  :func:`first_n_reaching` starts where a normal-theory approximation puts n
(each caller knows its own), steps 1, 2, 4, ... towards the target until it is bracketed, then
bisects.  It returns the first n found at or above the target with the n below it under the
target; where the curve is monotone that n does not depend on the start, and a start within a
few of the answer costs two or three evaluations.  Used by
:func:`analysis.power.simulated.simulation_sample_size` and
:func:`analysis.power.multisite.multisite_sample_size`.
"""
from __future__ import annotations

from typing import Callable, Optional

__all__ = ["first_n_reaching"]


def first_n_reaching(ok: Callable[[int], bool], start: int, n_max: int, n_min: int = 2) -> Optional[int]:
    """The smallest n in [n_min, n_max] with ``ok(n)`` and not ``ok(n - 1)``, searched from ``start``;
    None when even ``ok(n_max)`` is false.  ``ok`` is called at most once per n if it caches.

    Examples
    --------
    >>> seen = []
    >>> def ok(n):
    ...     seen.append(n)
    ...     return n >= 37
    >>> first_n_reaching(ok, 30, 100), seen
    (37, [30, 31, 33, 37, 35, 36])
    >>> first_n_reaching(lambda n: False, 30, 100) is None
    True
    """
    lo, hi = _bracket(ok, min(max(n_min, int(start)), n_max), n_max, n_min)
    if hi is None:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _bracket(ok: Callable[[int], bool], start: int, n_max: int, n_min: int) -> tuple[int, Optional[int]]:
    """(lo, hi): ok(hi) and not ok(lo) (lo = n_min - 1: none below n_min), found from ``start`` by
    steps 1, 2, 4, ...; hi is None when even ``n_max`` is not ok (lo is then ``n_max``)."""
    step = 1
    if ok(start):
        hi = start
        while hi > n_min:
            n = max(n_min, hi - step)
            if not ok(n):
                return n, hi
            hi, step = n, 2 * step
        return n_min - 1, hi
    lo = start
    while lo < n_max:
        n = min(n_max, lo + step)
        if ok(n):
            return lo, n
        lo, step = n, 2 * step
    return lo, None
