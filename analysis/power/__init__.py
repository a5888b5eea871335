"""Power: ``exact`` (two binomials, by enumeration: power, sample size, d33) and ``simulated`` (plans
with no closed form, by simulation through the same analysis)."""
