"""``compliance seal``: the hashes of every file of a data folder, in a manifest kept off the device."""
from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "seal", help="write the SHA-256 of every file of a data folder to a small manifest to keep elsewhere",
        description="Write one line per file of DATA_DIR (SHA-256, two spaces, the path relative to DATA_DIR; "
                    "the format of sha256sum) to MANIFEST. Keep the manifest off the device that holds the "
                    "data: e-mail it, commit it to a repository, print it. 'compliance verify DATA_DIR "
                    "--manifest MANIFEST' then finds any file added, removed or changed since, even by someone "
                    "who rewrote every hash and the whole audit log in the folder.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="the data folder (every file under it, recursively)")
    p.add_argument("--out", required=True, metavar="MANIFEST", help="the manifest to write (never replaced "
                                                                     "without --force)")
    p.add_argument("--force", action="store_true", help="replace an earlier manifest (never any other file)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=cmd_seal)


def cmd_seal(args: argparse.Namespace, out=None) -> int:
    """Handler of ``compliance seal``; returns the exit status (0)."""
    import json

    from analysis.records.seal import seal

    out = out or sys.stdout
    summary = seal(args.data_dir, args.out, force=args.force)
    if args.json:
        json.dump(summary, out, indent=2)
        out.write("\n")
    else:
        out.write(f"sealed {summary['files']} file(s) of {args.data_dir} in {summary['out']} (SHA-256 of the "
                  f"manifest: {summary['sha256']}); keep it off this device\n")
    return 0
