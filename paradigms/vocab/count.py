"""The simulation model of a count outcome: how many tickets a simulated participant buys.

Declared with the study (``Experiment.model``) and drawn by the simulated
participant of a lab session, through the same screens a real one sees.
Nothing here imports the engine or PsychoPy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

from ..base import DeclarationError
from .lab import LabDesign, RatingItem, TextItem

if TYPE_CHECKING:
    import numpy as np

__all__ = ["CellMean", "CountModel", "SimPerson", "NO_EXCLUSION"]

#: the exclusion code of "no exclusion" on the experimenter's screen (and in a simulated draw)
NO_EXCLUSION = "none"


@dataclass(frozen=True)
class CellMean:
    """Mean number of tickets in one cell, and where it comes from."""

    mean: float
    source: str

    def __post_init__(self):
        if not (math.isfinite(self.mean) and self.mean >= 0):
            raise DeclarationError(f"cell mean {self.mean!r} must be a number >= 0")


class _Description(dict):
    """A JSON-safe dict whose ``str`` is a Markdown table (the printed protocol shows it)."""

    def __str__(self) -> str:
        lines = [f"Count model: {self['distribution']}.", "",
                 "| condition | mean tickets | source |", "|---|---|---|"]
        for name, c in self["cell_means"].items():
            lines.append(f"| `{name}` | {c['mean']:.2f} | {c['source']} |")
        lines += ["", f"- dispersion alpha = {self['dispersion']['alpha']:g} ({self['dispersion']['source']})",
                  f"- liking slope (log rate per SD of liking), by {self['slope_factor']}: "
                  + ", ".join(f"{k} = {v:g}" for k, v in self["liking_slope"]["by_level"].items())
                  + f" ({self['liking_slope']['source']})",
                  f"- liking manipulation shift (SD of liking), by {self['liking_shift']['factor']}: "
                  + ", ".join(f"{k} = {v:g}" for k, v in self["liking_shift"]["by_level"].items())
                  + f" ({self['liking_shift']['source']})",
                  f"- counts above {self['max_tickets']} are recorded as {self['max_tickets']} "
                  "(the most the entry screen accepts)",
                  f"- P(suspicious) = {self['p_suspicious']:g}, P(knew the confederate) = "
                  f"{self['p_knew_confederate']:g}, P(withdraws data) = {self['p_withdraw']:g}",
                  f"- `--rate NAME=MEAN` sets a cell mean (NAME a condition, or a {self['slope_factor']} "
                  "level for all its cells)"]
        return "\n".join(lines)


@dataclass(frozen=True)
class CountModel:
    """How simulated participants of a count paradigm behave.

    Tickets of participant *i* in cell *c*: negative binomial (NB2, variance
    ``mu + alpha * mu**2``) with mean ``mu_c * exp(b * z_i - b**2 / 2)``,
    where ``z_i`` ~ N(0, 1) is how much more (or less) than his cell the
    participant likes the confederate and ``b`` the liking slope of the
    cell's favor level (the ``-b**2/2`` keeps the cell mean at ``mu_c``).
    Liking ratings are ``round(5 + 1.2 * (shift + z_i) + N(0, item_noise))``
    clipped to 1..9, with ``shift`` set by the cell's liking level, so the
    liking items correlate with tickets where ``b`` is not zero.
    """

    cell_means: Mapping[str, CellMean]
    dispersion: float
    dispersion_source: str
    slope_factor: str
    liking_slope: Mapping[str, float]
    liking_slope_source: str
    shift_factor: str
    liking_shift: Mapping[str, float]
    liking_shift_source: str
    cell_factors: Mapping[str, Mapping[str, str]]
    item_noise: float = 1.0
    max_tickets: int = 20
    p_suspicious: float = 0.0
    p_knew_confederate: float = 0.0
    p_withdraw: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "cell_means", MappingProxyType(dict(self.cell_means)))
        object.__setattr__(self, "liking_slope", MappingProxyType(dict(self.liking_slope)))
        object.__setattr__(self, "liking_shift", MappingProxyType(dict(self.liking_shift)))
        object.__setattr__(self, "cell_factors",
                           MappingProxyType({k: MappingProxyType(dict(v)) for k, v in self.cell_factors.items()}))
        if not self.dispersion > 0:
            raise DeclarationError(f"dispersion alpha must be > 0, not {self.dispersion!r}")
        for name in ("p_suspicious", "p_knew_confederate", "p_withdraw"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise DeclarationError(f"{name} {p!r} is outside [0, 1]")

    # -- overrides ---------------------------------------------------------
    def with_means(self, overrides: Mapping[str, float]) -> "CountModel":
        """Cell means set on the command line (``--rate NAME=MEAN``).

        ``NAME`` is a condition, or a level of the slope factor (``no_favor``)
        meaning every cell at that level.
        """
        means = dict(self.cell_means)
        levels = {lv for f in self.cell_factors.values() for k, lv in f.items() if k == self.slope_factor}
        for name, value in overrides.items():
            if name in means:
                targets = [name]
            elif name in levels:
                targets = [c for c, f in self.cell_factors.items() if f.get(self.slope_factor) == name]
            else:
                raise DeclarationError(f"--rate: unknown condition {name!r}; known: {', '.join(means)} "
                                       f"(or a {self.slope_factor} level: {', '.join(sorted(levels))})")
            for c in targets:
                means[c] = CellMean(float(value), "set on the command line")
        return replace(self, cell_means=means)

    def describe(self) -> dict:
        """JSON-safe description (written to the session sidecar and the protocol)."""
        return _Description({
            "kind": "count",
            "distribution": "negative binomial (NB2: variance = mu + alpha * mu^2) per person, "
                            "person rate shifted by liking",
            "cell_means": {k: {"mean": c.mean, "source": c.source} for k, c in self.cell_means.items()},
            "dispersion": {"alpha": self.dispersion, "source": self.dispersion_source},
            "slope_factor": self.slope_factor,
            "liking_slope": {"by_level": dict(self.liking_slope), "source": self.liking_slope_source},
            "liking_shift": {"factor": self.shift_factor, "by_level": dict(self.liking_shift),
                             "source": self.liking_shift_source},
            "item_noise_sd": self.item_noise,
            "max_tickets": self.max_tickets,
            "p_suspicious": self.p_suspicious,
            "p_knew_confederate": self.p_knew_confederate,
            "p_withdraw": self.p_withdraw,
        })

    # -- drawing one participant ------------------------------------------------
    def draw(self, condition: str, rng: "np.random.Generator", design: LabDesign) -> "SimPerson":

        if condition not in self.cell_means:
            raise DeclarationError(f"no simulated cell mean for condition {condition!r}")
        f = self.cell_factors.get(condition, {})
        b = float(self.liking_slope.get(f.get(self.slope_factor, ""), 0.0))
        shift = float(self.liking_shift.get(f.get(self.shift_factor, ""), 0.0))
        z = float(rng.standard_normal())
        mu = self.cell_means[condition].mean * math.exp(b * z - b * b / 2)
        if mu <= 0:
            tickets = 0
        else:
            r = 1.0 / self.dispersion
            tickets = int(rng.negative_binomial(r, r / (r + mu)))
        tickets = min(tickets, self.max_tickets)
        values: dict[str, object] = {}
        # the paintings' normal draws and then the composite's items' in one call: the generator fills an
        # array with the very draws that as many scalar calls give, in order; rounded and clipped as Python
        # floats (np.clip of a scalar costs 10 us)
        cols = design.painting_columns
        items = _composite_items(design)
        normals = rng.standard_normal(len(cols) + len(items)).tolist()
        for col, x in zip(cols, normals):
            values[col] = min(max(round(5.5 + 1.8 * x), 1), 9)
        for item, x in zip(items, normals[len(cols):]):
            x = 5 + 1.2 * (shift + z) + self.item_noise * x
            values[item.column] = int(min(max(round(x), item.low), item.high))
        # three uniform draws in one call (the same doubles as three scalar calls)
        knew, suspicious, withdraw = (u < p for u, p in zip(rng.random(3).tolist(), (
            self.p_knew_confederate, self.p_suspicious, self.p_withdraw)))
        for item in design.questionnaire:
            if isinstance(item, RatingItem) and item.column not in values:
                values[item.column] = int(rng.integers(4, 8)) if knew else 1
            elif isinstance(item, TextItem):
                pool = _SUSPICIOUS_ANSWERS if suspicious else _PLAIN_ANSWERS
                values[item.column] = pool[int(rng.integers(len(pool)))]
        exclusion = "knew_confederate" if knew else ("suspicious" if suspicious else NO_EXCLUSION)
        return SimPerson(condition, tickets, values, exclusion, "withdraw" if withdraw else "keep")


_COMPOSITE_ITEMS: dict = {}


def _composite_items(design: LabDesign) -> tuple:
    """The questionnaire's rating items that make up ``design``'s composite, in the questionnaire's order
    (kept per design: the design is frozen)."""
    got = _COMPOSITE_ITEMS.get(id(design))
    if got is None or got[0] is not design:
        if len(_COMPOSITE_ITEMS) >= 64:
            _COMPOSITE_ITEMS.clear()
        got = _COMPOSITE_ITEMS[id(design)] = (design, tuple(
            item for item in design.questionnaire if isinstance(item, RatingItem) and item.column in design.composite[1]))
    return got[1]


#: Simulated answers to the suspicion probe: commas and quotes on purpose, so
#: the CSV writer's quoting is exercised (no line breaks: Enter submits the
#: answer on the screen, so a real one cannot hold any).  No names.
_PLAIN_ANSWERS = (
    "How people judge modern art.",
    "Whether first impressions of paintings, like colour and shape, change over time",
    'Aesthetic judgement; maybe "complexity" vs simplicity',
    "Art preferences of students, and whether they are stable",
)
_SUSPICIOUS_ANSWERS = (
    "I think the raffle tickets were part of it, to see if the drink made me buy more.",
    'My partner was "in on it", I guess; the study was about favors.',
)


@dataclass(frozen=True)
class SimPerson:
    condition: str
    tickets: int
    values: Mapping[str, object]
    exclusion: str
    debrief: str

