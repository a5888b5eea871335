"""The one door from a study's name to its declaration.

Session files name their study (column ``study``), and a few public functions
still take a study's id for convenience; both turn the name into the declared
:class:`~paradigms.base.Paradigm` here, and nowhere else below the API.  The
statistics never look a study up: they are handed the declaration
(:class:`~analysis.load.inputs.AnalysisInput`).
"""
from __future__ import annotations

__all__ = ["declaration", "known_studies", "control_labels"]


def declaration(study):
    """The declared paradigm of ``study`` (an id, or a Paradigm passed through).

    Parameters
    ----------
    study : str or paradigms.base.Paradigm

    Returns
    -------
    paradigms.base.Paradigm

    Examples
    --------
    >>> declaration("regan1971").outcome
    'count'
    >>> p = declaration("regan1971"); declaration(p) is p
    True
    """
    if not isinstance(study, str):
        return study
    import paradigms

    return paradigms.get(study)


def known_studies() -> list:
    """The ids of every declared study.

    Examples
    --------
    >>> "cialdini1975" in known_studies()
    True
    """
    import paradigms

    return list(paradigms.names())


def control_labels(contrast) -> tuple[str, ...]:
    """Each control of a declared contrast as the contrast's label names it (``factor=level`` for a
    contrast on factor levels), read from its ``control`` tuple, never by parsing its label.

    Examples
    --------
    >>> from paradigms.base import Contrast
    >>> control_labels(Contrast("a", ("b", "c"), "a vs b, c"))
    ('b', 'c')
    >>> control_labels(Contrast("x", ("y",), "x vs y", factor="favor"))
    ('favor=y',)
    """
    return tuple(f"{contrast.factor}={c}" if contrast.factor else c for c in contrast.control)
