"""Load: session files in, one validated frame out, cut per experiment for the analyses.

The rooms, in the order the data pass through them:

``files``
    finding the session files (CSV and Parquet) under the paths given, each once.
``read``
    each file's cells as text (pyarrow's reader; the csv module where a file is irregular).
``validate``
    the checks: a file's keywords and sidecar, the pooled cells against each experiment's
    codebook, factors, times and numbers, unique ids and slots.
``cells``
    every file's cells pooled in one table, and the frame typed by the codebook.
``sessions``
    the orchestration (:func:`~analysis.load.sessions.load_sessions`) and what it returns,
    :class:`~analysis.load.sessions.LoadedData`.
``status``
    the one who-is-analysed rule; ``mail`` joins a mailed card's dispatch and outcome records;
    ``inputs`` cuts one experiment out for the analyses (:class:`~analysis.load.inputs.AnalysisInput`);
    ``synthetic`` writes session files from cell counts (for tests, examples and simulated power).
"""
