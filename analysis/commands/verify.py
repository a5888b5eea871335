"""``compliance verify``: is every session file as it was when its session closed?"""
from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "verify", help="check session files against the SHA-256 their sidecars recorded, the journal and the audit log",
        description="Check every session under DATA_DIR: the CSV and the journal against the SHA-256 the "
                    "sidecar recorded when the session closed; the journal against the CSV (every row the "
                    "journal wrote is there, every row was written by a session, every participant whose "
                    "final answer was journalled has a row); the audit log's chain, and the record chain against "
                    "the files (every session closed is there with the CSV, journal and sidecar it recorded; "
                    "every withdrawal is in the log and marked in its sidecar); with --manifest, every file "
                    "against a manifest 'compliance seal' wrote. One line per discrepancy; exit status 1 if "
                    "there is any, 0 if none.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="the data folder (searched recursively)")
    p.add_argument("--manifest", metavar="MANIFEST", help="also check every file of DATA_DIR against a manifest "
                   "written by 'compliance seal' (files added, removed or changed since): the check that holds "
                   "against someone who rewrote the whole folder")
    p.add_argument("--json", action="store_true", help="print the discrepancies and notes as JSON")
    p.set_defaults(handler=cmd_verify)


def cmd_verify(args: argparse.Namespace, out=None) -> int:
    """Handler of ``compliance verify``; returns 0 if nothing is wrong, 1 otherwise."""
    import json

    from analysis.records.verify import verify

    out = out or sys.stdout
    res = verify(args.data_dir, manifest=getattr(args, "manifest", None))
    if args.json:
        json.dump(res.to_dict(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        for line in res.discrepancies:
            out.write(line + "\n")
        for line in res.notes:
            out.write(f"note: {line}\n")
        out.write(str(res) + "\n")
    return 1 if res.discrepancies else 0
