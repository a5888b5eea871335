"""``compliance export``: the validated, pooled table as Parquet, for Dask, Spark or pandas.

The table written is :attr:`analysis.load.sessions.LoadedData.data`: every participant who may be
analysed or was excluded (withdrawn participants' data are never written), typed per
codebook, with ``source_file``/``source_line``/``source_row`` naming the session file and
line each row came from.  The file's metadata (key ``compliance``) keeps what the
frame alone does not: each session's origin (real, pilot, simulated), the
exclusion/withdrawal report, the column order.  ``compliance analyze OUT`` reads it back
(``*_data.parquet``) and validates it as it validates CSVs.

Written atomically: into a temporary file (or folder) beside OUT, then renamed.  An
existing OUT is refused; ``--force`` replaces it only if this command wrote it.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

#: What marks a file or folder as written by ``compliance export`` (``--force`` replaces only these).
MARKER = "compliance export"
#: The marker file of a partitioned export.
FOLDER_MARKER = "_compliance_export.json"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="write the validated, pooled session data as Parquet (one file, or partitioned by site)",
        description="Load and validate the session files under DATA (as 'analyze' does), then write the pooled "
                    "table as Parquet: one file OUT (name it *_data.parquet so that 'analyze' finds it in a "
                    "folder), or with --partition-by site a folder OUT/site=S1/part-0_data.parquet ... that "
                    "Dask, Spark or pyarrow.dataset read as one data set. Withdrawn participants are never "
                    "written; excluded ones are, with their reason. Nothing is written if a file is refused.")
    p.add_argument("paths", nargs="+", metavar="DATA", help="session file(s) or folder(s), as for 'analyze'")
    p.add_argument("--parquet", required=True, metavar="OUT", help="the Parquet file (or folder, with "
                   "--partition-by) to write")
    p.add_argument("--partition-by", choices=("site",), help="write a folder with one partition per site")
    p.add_argument("--force", action="store_true", help="replace an earlier export (never anything else)")
    p.add_argument("--json", action="store_true", help="print a summary as JSON")
    p.add_argument("--include-simulated", action="store_true", help="pool simulated with real or pilot sessions")
    p.add_argument("--include-pilot", action="store_true", help="pool pilot with real sessions")
    p.set_defaults(handler=cmd_export)


def _is_our_export(out: Path) -> bool:
    if out.is_dir():
        try:
            return json.loads((out / FOLDER_MARKER).read_text(encoding="utf-8")).get("written_by") == MARKER
        except (OSError, ValueError, AttributeError):
            return False
    try:
        import pyarrow.parquet as pq

        meta = pq.read_schema(out).metadata or {}
        return json.loads(meta.get(b"compliance", b"{}")).get("written_by") == MARKER
    except Exception:  # not Parquet at all: not ours
        return False


def _public_sources(frame, names: dict):
    """``frame`` with its ``source_file`` column mapped through ``names`` (a copy)."""
    if "source_file" not in frame.columns:
        return frame
    frame = frame.copy()
    frame["source_file"] = [names.get(str(f), str(f)) for f in frame["source_file"]]
    return frame


def export_parquet(loaded, out, partition_by=None, force: bool = False, roots=None) -> dict:
    """Write ``loaded.data`` (a :class:`~analysis.load.sessions.LoadedData`) to ``out``; returns a summary.

    Raises
    ------
    AnalysisError
        ``out`` exists and is not an earlier export, or exists without ``force``.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from analysis.errors import AnalysisError

    out = Path(out)
    if out.exists() or out.is_symlink():
        if not force:
            raise AnalysisError(f"{out}: exists; pass --force to replace an earlier export (nothing written)")
        if not _is_our_export(out):
            raise AnalysisError(f"{out}: exists and was not written by 'compliance export'; --force replaces only "
                                "an earlier export (nothing written)")
    if not out.parent.is_dir():
        raise AnalysisError(f"{out.parent}: no such folder (nothing written)")
    from analysis.records.paths import public_paths

    # shared files carry paths relative to the data folder, never as typed (issue 22.8)
    names = public_paths(loaded.files, roots if roots is not None else loaded.files)
    data = _public_sources(loaded.data, names)
    report = _public_sources(loaded.report, names).astype({"experiment": int, "source_line": int})
    meta = {"written_by": MARKER, "columns": [c for c in data.columns if c not in ("source_file", "source_line",
                                                                               "source_row")],
            "origins": {names.get(f, f): loaded.origins.get(f, "unrecorded")
                        for f in dict.fromkeys(map(str, loaded.data["source_file"]))},
            "report": json.loads(report.to_json(orient="records")),
            "frame_columns": list(data.columns), "files": [names.get(str(f), str(f)) for f in loaded.files]}
    table = pa.Table.from_pandas(data, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           b"compliance": json.dumps(meta).encode("utf-8")})
    try:
        if partition_by:
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
            try:
                ds.write_dataset(table, tmp / "d", format="parquet", partitioning=[partition_by],
                                 partitioning_flavor="hive", basename_template="part-{i}_data.parquet")
                for f in (tmp / "d").rglob("*.parquet"):   # each partition keeps the metadata
                    t = pq.read_table(f, partitioning=None)
                    pq.write_table(t.replace_schema_metadata(table.schema.metadata), f)
                (tmp / "d" / FOLDER_MARKER).write_text(json.dumps({"written_by": MARKER, "partition_by": partition_by,
                                                                   "rows": table.num_rows}), encoding="utf-8")
                if out.exists():
                    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
                    os.replace(out, old / "x")
                    os.replace(tmp / "d", out)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    os.replace(tmp / "d", out)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        else:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
            os.close(fd)
            try:
                pq.write_table(table, tmp_name)
                os.replace(tmp_name, out)
            except BaseException:
                Path(tmp_name).unlink(missing_ok=True)
                raise
    except OSError as exc:
        raise AnalysisError(f"{out}: cannot be written ({exc.strerror or exc}); nothing written") from None
    return {"out": str(out), "rows": int(table.num_rows), "columns": len(meta["columns"]) + 3,
            "files": len(loaded.files), "partition_by": partition_by,
            "sites": sorted(map(str, data["site"].dropna().unique())) if "site" in data else [],
            "excluded": int((report["status"] == "excluded").sum()),
            "withdrawn_not_written": int((report["status"] == "withdrawn").sum())}


def cmd_export(args: argparse.Namespace, out=None) -> int:
    """Handler of ``compliance export``; returns the exit status (0)."""
    from analysis.load.sessions import load_sessions

    out = out or sys.stdout
    loaded = load_sessions(*args.paths, include_simulated=args.include_simulated, include_pilot=args.include_pilot)
    summary = export_parquet(loaded, args.parquet, partition_by=args.partition_by, force=args.force, roots=args.paths)
    if args.json:
        json.dump(summary, out, indent=2)
        out.write("\n")
    else:
        where = f" (partitioned by {args.partition_by}: {len(summary['sites'])} partitions)" if args.partition_by else ""
        out.write(f"exported {summary['rows']} rows from {summary['files']} session file(s) to {summary['out']}{where}; "
                  f"{summary['withdrawn_not_written']} withdrawn participant(s) not written\n")
    return 0
