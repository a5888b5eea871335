"""Statistics, by plan type: ``binary`` (contrasts of two proportions), ``counts`` (a count outcome in a
two-factor design), ``factorial`` (a binary outcome's treatment x moderator logistic model).

A statistic never formats and never names a study: it reads the declared plan.
"""
