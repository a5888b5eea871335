"""Multi-site pooling: per-site effects, random-effects and fixed-effect estimators, heterogeneity."""
