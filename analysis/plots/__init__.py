"""Plots, each drawn from a result object alone: ``rates`` (compliance by condition), ``forest``
(a pooling), ``replication`` (the verdicts)."""
