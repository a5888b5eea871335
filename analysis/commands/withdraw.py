"""``compliance withdraw``: a participant withdraws their data after the session, on the record."""
from __future__ import annotations

import argparse
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "withdraw", help="record that a participant withdrew their data after the session (audit log)",
        description="Append one line to the audit log (audit_log.jsonl) beside the participant's session "
                    "file, so that a copy of that folder carries it, and mark the withdrawal in the session's "
                    "sidecar: which participant, why, who recorded it (a code) and when; flushed and fsynced. The session CSV is never "
                    "rewritten. From then on 'analyze' counts the participant as withdrawn and never "
                    "analyses their data; 'verify' checks the log's chain.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="the data folder holding the participant's session file "
                                                        "(searched recursively); the log is written beside the participant's "
                                                        "session file")
    p.add_argument("participant_id", metavar="PARTICIPANT_ID", help="the participant's pseudonym, as in the CSV")
    p.add_argument("--reason", required=True, metavar="TEXT",
                   help="why, in one line (e.g. 'asked by e-mail on 3 May'); never a name or contact detail "
                        "(an e-mail address, a telephone number or two capitalised words are refused)")
    p.add_argument("--by", required=True, metavar="CODE",
                   help="code (letters and digits) of the person recording the withdrawal")
    p.set_defaults(handler=cmd_withdraw)


def cmd_withdraw(args: argparse.Namespace, out=None) -> int:
    """Handler of ``compliance withdraw``; returns the exit status (0)."""
    from analysis.records.audit import append_withdrawal

    out = out or sys.stdout
    e = append_withdrawal(args.data_dir, args.participant_id, args.reason, args.by)
    out.write(f"withdrawn: {e['participant_id']} ({e['session_file']}) by {e['by']} at {e['t']}; "
              f"entry {e['seq']} of {e['log']} (beside the session, and marked in its sidecar)\n")
    return 0
