"""Replication: the original beside the new data.

``published`` reads the reference figures; ``reproduce`` recomputes them from the published counts;
``consistency`` searches the cell counts that fit them; ``original`` is the original's side of a
contrast; ``criteria`` holds one function per replication criterion; ``verdict`` puts them side by
side for every confirmatory contrast; ``whole_study`` compares whole-study rates where no contrast is
published.
"""
