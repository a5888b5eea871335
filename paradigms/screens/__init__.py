"""PsychoPy presentation.  The only part of ``paradigms`` that imports PsychoPy."""
