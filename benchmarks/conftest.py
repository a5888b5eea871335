"""Benchmarks report each measurement as a ratio to a baseline measured in the same run.

Each group has one benchmark whose name ends in ``_baseline``; after the run the
summary prints every other benchmark's median as a multiple of it.  No timing is
ever asserted: run ``make bench`` and read the ratios.
"""
from __future__ import annotations


def pytest_terminal_summary(terminalreporter, exitstatus, config):
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
        base = [b for b in items if b.name.split("[")[0].endswith("_baseline")]
        if not base:
            continue
        ref = base[0].stats.median
        tr.write_line(f"{group}:")
        for b in sorted(items, key=lambda b: b.stats.median):
            cpu = (getattr(b, "extra_info", None) or {}).get("cpu_s")
            tr.write_line(f"  {b.name:<48} {b.stats.median * 1e3:9.3f} ms   x{b.stats.median / ref:7.2f}"
                          + (f"   (CPU {cpu:.2f} s)" if cpu is not None else ""))
