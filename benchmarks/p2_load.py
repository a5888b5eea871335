"""P2 (issue 14): loading and analysing 1,000,000 rows in 500 session files.

    python benchmarks/p2_load.py [--rows 1000000] [--files 500] [--data DIR] [--repeat 2]

Writes the data set with ``benchmarks/make_big_dataset.py`` (into a temporary folder
unless ``--data`` names one that holds it already), then measures, in this one run:

* the baseline: pyarrow's bare read of the same files (``pyarrow.csv.read_csv`` of each
  file, types inferred, ``pyarrow.concat_tables``; no validation);
* ``analysis.load_sessions`` (read, validate, type);
* the tamper-evidence gate ``compliance analyze`` runs first
  (:func:`analysis.records.verify.check_evidence`), alone;
* ``compliance analyze`` as the command does it: the gate, ``load_sessions``, then
  ``analysis.analyze`` (and ``load_sessions`` + ``analyze`` without the gate beside it);
* peak memory of ``load_sessions`` in a fresh subprocess (``resource.getrusage`` maxrss),
  beside the frame's size (``DataFrame.memory_usage(deep=True)``) and the interpreter's
  own footprint before loading.

Each is timed twice over: CPU time of this process (``time.process_time``: every thread's,
so pyarrow's threaded baseline is charged for all of its work) and wall time
(``time.perf_counter``).  On a shared, loaded machine wall time measures the neighbours as
much as the code, so the ratios are of CPU time (the wall-time ratios are printed beside).
Each is the best of ``--repeat`` runs (the least disturbed).  The imports ``analyze`` needs
the first time (SciPy, statsmodels: about a second, whatever the data) are made before the
timing and printed apart, so that the ratios are of the work that grows with the data.
Nothing is asserted; ``make bench`` runs it.
"""
from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

_MEMORY = r"""
import json, resource, sys, warnings

def hwm():   # this process's own peak (VmHWM); ru_maxrss can carry the parent's over exec
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

warnings.simplefilter("ignore")
from analysis import load_sessions
import analysis.api, pyarrow.csv, pyarrow.parquet  # the imports, before: not the data's cost
before = hwm()
loaded = load_sessions(sys.argv[1])
peak = hwm()
print(json.dumps({"before": before, "peak": peak, "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "frame": int(loaded.data.memory_usage(deep=True).sum()),
                  "rows": len(loaded.data)}))
"""


def _best(fn, repeat: int) -> tuple[tuple[float, float], object]:
    """((CPU seconds, wall seconds), the last result): each the least of ``repeat`` runs."""
    cpu = wall = float("inf")
    out = None
    for k in range(repeat):
        out = None
        gc.collect()
        c, t = time.process_time(), time.perf_counter()
        out = fn()
        cpu, wall = min(cpu, time.process_time() - c), min(wall, time.perf_counter() - t)
    return (cpu, wall), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--data", type=Path, help="a folder holding the data set (made there if empty)")
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args(argv)

    import warnings

    import pyarrow as pa
    import pyarrow.csv as pacsv

    from analysis import load_sessions
    from analysis.api import analyze
    from benchmarks.make_big_dataset import make

    tmp = None
    data = a.data
    if data is None:
        tmp = tempfile.TemporaryDirectory(prefix="p2-")
        data = Path(tmp.name)
    t = time.perf_counter()
    if not any(Path(data).glob("*_data.csv")):
        make(data, a.rows, a.files)
    t_make = time.perf_counter() - t
    files = sorted(Path(data).glob("*_data.csv"))

    warnings.simplefilter("ignore")
    # first, while this process is still small (a child's ru_maxrss starts from its parent's)
    mem = json.loads(subprocess.run([sys.executable, "-c", _MEMORY, str(data)], capture_output=True, text=True,
                                    check=True, cwd=str(HERE.parent)).stdout)
    from analysis.records.verify import check_evidence

    # the imports analyze makes on its first call, once per process (not the data's cost)
    (imp_cpu, imp_wall), _ = _best(lambda: analyze(load_sessions(files[0])), 1)

    def gate():
        return check_evidence([data], accept_unverified=True)

    def command():
        gate()
        return analyze(load_sessions(data))

    rows = {}
    read = lambda: pa.concat_tables([pacsv.read_csv(f) for f in files])  # noqa: E731
    base = "pyarrow bare read (baseline)"
    rows[base], _ = _best(read, a.repeat)
    rows["load_sessions"], _ = _best(lambda: load_sessions(data), a.repeat)
    rows["load + analyze"], _ = _best(lambda: analyze(load_sessions(data)), a.repeat)
    rows["tamper-evidence gate (check_evidence)"], failed = _best(gate, a.repeat)
    rows["gate + load + analyze (compliance analyze)"], res = _best(command, a.repeat)
    again, _ = _best(read, a.repeat)  # measured again after: the least disturbed of all its runs
    rows[base] = (min(rows[base][0], again[0]), min(rows[base][1], again[1]))
    cpu0, wall0 = rows[base]

    print(f"P2: {len(files)} files, {a.rows:,} rows (written in {t_make:.1f} s); "
          f"ratios of CPU time (process_time), wall-time ratios beside")
    print(f"  {'':<44} {'CPU s':>7} {'ratio':>6}   {'wall s':>7} {'ratio':>6}")
    for name, (cpu, wall) in rows.items():
        print(f"  {name:<44} {cpu:7.2f} x{cpu / cpu0:5.2f}   {wall:7.2f} x{wall / wall0:5.2f}")
    print(f"  (analyze's imports on its first call, once per process, not in the above: "
          f"{imp_cpu:.2f} s CPU, {imp_wall:.2f} s wall)")
    print(f"  the gate: {'the data verify' if not failed else f'{len(failed)} check(s) fail, e.g. {failed[0]}'}")
    mb = 1 << 20
    print(f"  peak memory of load_sessions (subprocess, VmHWM; ru_maxrss {mem['maxrss'] / mb:,.0f} MB): "
          f"{mem['peak'] / mb:,.0f} MB; frame {mem['frame'] / mb:,.0f} MB "
          f"({mem['rows']:,} rows); peak / frame x{mem['peak'] / mem['frame']:.2f}; "
          f"above the interpreter's {mem['before'] / mb:,.0f} MB before loading: "
          f"x{(mem['peak'] - mem['before']) / mem['frame']:.2f} the frame")
    barnard = [n for r in (res or []) for c in getattr(r, "contrasts", ()) for n in getattr(c, "notes", ())
               if "not computed" in n]
    if barnard:
        print(f"  analyze: {barnard[0]}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
