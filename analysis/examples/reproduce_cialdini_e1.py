"""Reproduce Cialdini et al. (1975), Experiment 1 -- the door-in-the-face.

Run from the repository root:

    .venv/bin/python analysis/examples/reproduce_cialdini_e1.py [FOLDER]

The plot is saved in FOLDER (default: a new temporary folder), never in the
current folder.

What it does, step by step:

1. Reads the published figures (data/published/published_results.csv): 12/24 people
   agreed after the extreme request was refused (rejection-moderation), 6/24 in the
   exposure control and 4/24 when only the small request was made.
2. Rebuilds one row per participant from those counts and recomputes every
   published statistic (the chi-square values .50 and 6.42, p = .011), saying for
   each whether it matches at the precision the paper printed, and which method
   (e.g. with or without Yates' correction) reproduces it.
3. Runs the full analysis this toolkit runs on your own data -- rates with Wilson
   intervals, the contrasts the paradigm declares, exact tests, a logistic
   regression -- on the same rebuilt participants, and saves a plot.
"""
from pathlib import Path
import sys
import tempfile

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere

import analysis  # noqa: E402

def main(folder=None):
    # --- 1 + 2: published figures beside recomputed ones -------------------------
    (e1,) = analysis.reproduce("cialdini1975", experiment=1)
    print(e1)
    # Read the "agreement" column: 'exact' = rounds to the printed value;
    # 'within_last_digit' = off by one unit of the last printed digit (hand
    # calculation); 'mismatch' = the figure cannot come from these counts (here:
    # the course page that swapped the two control percentages).

    # --- 3: the analysis you would run on your own replication -------------------
    counts = {"rejection_moderation": (12, 24), "exposure_control": (6, 24), "smaller_request_only": (4, 24)}
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "study-cialdini1975_exp-1_site-PUB_session-1_data.csv"
        analysis.write_session_csv(csv_path, analysis.rows_from_counts("cialdini1975", 1, counts))
        results = analysis.analyze(csv_path)          # same call as `compliance analyze PATH`
        print()
        print(results[0])                             # APA sentences, one per contrast
        out_dir = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="cialdini1975_e1-"))
        out_dir.mkdir(parents=True, exist_ok=True)
        out = (out_dir / "cialdini1975_e1.png").resolve()
        analysis.plot_rates(results, out)             # bars = data, diamonds = published rates
        print(f"\nplot saved to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
