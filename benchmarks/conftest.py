"""Benchmarks report each measurement as a ratio to a baseline measured in the same run.

Each group has one benchmark whose name ends in ``_baseline``; after the run the
summary prints every other benchmark's median as a multiple of it.  No timing is
ever asserted: run ``make bench`` and read the ratios.
"""
from __future__ import annotations


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    p1 = getattr(config, "_launch_p1", None)  # benchmarks/test_launch_bench.py
    if p1:
        tr = terminalreporter
        tr.section("P1 launch: compliance run vs a bare PsychoPy window with text (medians)")
        tr.write_line(f"  bare PsychoPy, first frame        {p1['bare']:7.3f} s   x{1:6.2f}")
        tr.write_line(f"  compliance run, first frame       {p1['frame']:7.3f} s   x{p1['frame'] / p1['bare']:6.2f}"
                      "   (goal <= 1.15)")
        tr.write_line(f"  compliance run, first screen      {p1['screen']:7.3f} s   x{p1['screen'] / p1['bare']:6.2f}")
    vs_r = getattr(config, "_power_vs_r", None)  # benchmarks/test_power_bench.py, when R is installed
    if vs_r:
        tr = terminalreporter
        tr.section("exact Fisher power vs R's vectorised enumeration (best of 3; goal <= 0.5 x R, n=1000 <= 0.25 s)")
        for n, cpu, wall, r_cpu, r_wall, pw, r_pw in vs_r:
            tr.write_line(f"  n = {n:4d} per group: ours CPU {cpu:6.3f} s (wall {wall:6.3f}), R CPU {r_cpu:6.3f} s "
                          f"(wall {r_wall:6.3f}): x{cpu / r_cpu:5.2f} CPU, x{wall / r_wall:5.2f} wall; "
                          f"power {pw:.12f} vs R {r_pw:.12f}")
    bs = getattr(config, "_benchmarksession", None)
    if bs is None or not getattr(bs, "benchmarks", None):
        return
    groups: dict[str, list] = {}
    for b in bs.benchmarks:
        if b.stats is None:
            continue
        groups.setdefault(b.group or "", []).append(b)
    tr = terminalreporter
    tr.section("ratios to the baseline of each group (median time)")
    for group, items in sorted(groups.items()):
        base = [b for b in items if b.name.split("[")[0].endswith("_baseline") or "_baseline]" in b.name]
        if not base:
            continue
        ref = base[0].stats.median
        tr.write_line(f"{group}:")
        for b in sorted(items, key=lambda b: b.stats.median):
            cpu = (getattr(b, "extra_info", None) or {}).get("cpu_s")
            tr.write_line(f"  {b.name:<48} {b.stats.median * 1e3:9.3f} ms   x{b.stats.median / ref:7.2f}"
                          + (f"   (CPU {cpu:.2f} s)" if cpu is not None else ""))
