"""The tamper-evidence gate reads each session CSV once (issue 26.3): the ids and the SHA-256 come
from the same bytes, the ids by pyarrow for a plain file exactly as the csv module finds them,
and the loader that reads the file next reuses the digest while the file is unchanged."""
from __future__ import annotations

import hashlib
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import analysis.load.files as files
from analysis.records.verify import _csv_ids, _csv_ids_and_sha256, _ids_from_bytes

CELL = st.text(alphabet=st.sampled_from(list("ab1-_ ,\"\n\ré")), max_size=4)


@settings(max_examples=300, deadline=None)
@given(header=st.lists(st.sampled_from(["participant_id", "x", "y", ""]), min_size=1, max_size=4),
       rows=st.lists(st.lists(CELL, min_size=0, max_size=5), max_size=6),
       bom=st.booleans(), last_newline=st.booleans())
def test_the_ids_from_one_read_are_the_csv_modules(tmp_path_factory, header, rows, bom, last_newline):
    text = "\n".join([",".join(header)] + [",".join(r) for r in rows]) + ("\n" if last_newline else "")
    p = tmp_path_factory.mktemp("ids") / "a_data.csv"
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    p.write_bytes(raw)
    try:
        expected = _csv_ids(p)
    except Exception as exc:   # the csv module refuses it: so does the one read (the same error)
        with pytest.raises(type(exc)):
            _csv_ids_and_sha256(p)
        return
    fast = _ids_from_bytes(raw)
    assert fast is None or fast == expected
    ids, sha = _csv_ids_and_sha256(p)
    assert ids == expected and sha == hashlib.sha256(raw).hexdigest()


def test_a_plain_file_takes_the_fast_path_with_the_csv_modules_lines(tmp_path):
    raw = b"x,participant_id\na,p-1\nb,p-2\nc,\nd,p-1\ne,p-3\n"
    p = tmp_path / "a_data.csv"
    p.write_bytes(raw)
    assert _ids_from_bytes(raw) == _csv_ids(p) == {"p-1": 2, "p-2": 3, "p-3": 6}
    short = raw + b"f\n"      # a row without the id's field: the csv module reads the file
    p.write_bytes(short)
    assert _ids_from_bytes(short) is None and _csv_ids_and_sha256(p)[0] == {"p-1": 2, "p-2": 3, "p-3": 6}


def test_the_loader_reuses_the_gates_digest_only_for_the_file_as_the_gate_read_it(tmp_path, monkeypatch):
    """A digest is remembered for a file at rest; a file changed since is hashed again, so the
    loader's warning about a changed file is as before."""
    import os
    import time

    from analysis import load_sessions, rows_from_counts, write_session_csv
    from analysis.errors import DataIntegrityWarning

    p = write_session_csv(tmp_path / "study-cialdini1975_exp-1_site-S1_session-1_data.csv",
                          rows_from_counts("cialdini1975", 1, {"rejection_moderation": (2, 4)}, site="S1"))
    sha = hashlib.sha256(p.read_bytes()).hexdigest()
    p.with_suffix(".json").write_text('{"csv_sha256": "%s", "mode": "run"}' % sha)
    old = time.time() - 60
    os.utime(p, (old, old))
    monkeypatch.setattr(files, "AT_REST_NS", -10**12)     # ctime cannot be set back: count it at rest
    calls = []
    import paradigms.hashing as hashing
    real = hashing.bytes_sha256
    monkeypatch.setattr(hashing, "bytes_sha256", lambda raw: calls.append(1) or real(raw))
    raw, digest = files.read_hashed(p)
    assert digest == sha and files.known_sha256(p) == sha and len(calls) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataIntegrityWarning)
        load_sessions(p)
    assert len(calls) == 1                                 # the loader took the gate's digest
    p.write_bytes(raw.replace(b"S1-1-0001", b"S1-1-0009"))     # changed after the gate, still valid
    assert files.known_sha256(p) is None and files.read_with_known_sha256(p)[1] is None
    with pytest.warns(DataIntegrityWarning, match="no longer matches the SHA-256"):
        load_sessions(p)
    assert len(calls) == 2                                 # hashed again: the file is not as the gate read it
