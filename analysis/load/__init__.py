"""Load: session files in, one validated frame out.

``sessions`` finds and reads the files (CSV and Parquet) into :class:`~analysis.load.sessions.LoadedData`;
``validate`` checks whole columns against the codebook; ``mail`` joins a mailed card's dispatch and
outcome records; ``status`` is the one who-is-analysed rule; ``synthetic`` writes session files from
cell counts (for tests, examples and simulated power).
"""
