"""Replication: the original beside the new data.

``published`` reads the reference figures; ``reproduce`` recomputes them from the published counts;
``consistency`` searches the cell counts that fit them; ``original`` is the original's side of a
contrast; ``criteria`` holds one function per replication criterion; ``verdict`` puts them side by
side for every confirmatory contrast; ``whole_study`` compares whole-study rates where no contrast is
published.
"""

#: Criterion ids, in the order of the verdict table, with their row labels: the one list of the
#: replication criteria (``compliance --help``, ``replicate --help``, the table and the README count it).
CRITERIA = {
    "significance": "significance (original's test, original's direction)",
    "consistency_ci": "original inside the replication's 95% CI",
    "prediction_interval": "replication inside the original's 95% prediction interval",
    "small_telescopes": "small telescopes (vs d33)",
    "equivalence": "equivalence (TOST) vs the SESOI",
    "bayes_factor": "replication Bayes factor BF_r0",
    "bayes_factor_directional": "replication Bayes factor BF_r+ (directional)",
    "fixed_effect": "fixed-effect combination (inverse variance, log OR)",
    "mantel_haenszel": "fixed-effect combination (Mantel-Haenszel OR)",
}
