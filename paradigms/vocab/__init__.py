"""Everything a study declaration is written in, from one import.

``from paradigms.vocab import ...`` gives the field vocabulary of
:mod:`paradigms.base` (steps, answers, conditions, contrasts and plans,
measures, rates, experiments, the paradigm and its :class:`FieldSession`), the
lab session's (:mod:`paradigms.vocab.lab`), the mail session's
(:mod:`paradigms.vocab.mail`) and the count outcome's simulation model
(:mod:`paradigms.vocab.count`).  Vocabulary shared by one family of
studies has its own module (:mod:`paradigms.vocab.sales`, the sales table).

Importing it loads no module of ``paradigms.engine`` and nothing of PsychoPy.
"""
from __future__ import annotations

from ..base import *  # noqa: F401,F403
from ..base import __all__ as _base_all
from .count import *  # noqa: F401,F403
from .count import __all__ as _count_all
from .lab import *  # noqa: F401,F403
from .lab import __all__ as _lab_all
from .mail import *  # noqa: F401,F403
from .mail import __all__ as _mail_all

__all__ = [*_base_all, *_lab_all, *_count_all, *_mail_all]
