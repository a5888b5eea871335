"""The declaration is data: what imports what, and which piece chooses by type (issue 8).

These tests read the source (``ast``) and import modules in a fresh interpreter, so a later change
that lets a declaration load the engine, the engine name the screens, or the analysis name a study
fails here with the module named.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import paradigms
from paradigms.base import DeclarationError, FieldSession, Paradigm, SessionType
from paradigms.vocab import LabSession

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    """Every module an import statement in ``path`` names (relative ones resolved), anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def test_importing_every_declaration_loads_no_engine_and_no_psychopy():
    """Nor numpy or pandas: `compliance list` reads every declaration and starts in a fraction of a second."""
    code = ("import sys, json, paradigms\n"
            "[paradigms.get(n) for n in paradigms.names()]\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('paradigms.engine', 'psychopy', "
            "'paradigms.screens', 'numpy', 'pandas')))))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


@pytest.mark.parametrize("module", paradigms.names())
def test_a_study_module_imports_only_the_vocabulary_and_exports_only_its_paradigm(module):
    path = ROOT / "paradigms" / f"{module}.py"
    ours = {m for m in _imports(path) if m.startswith("paradigms")}
    assert ours and all(m == "paradigms.vocab" or m.startswith("paradigms.vocab.") for m in ours), ours
    mod = __import__(f"paradigms.{module}", fromlist=["__all__"])
    assert mod.__all__ == ["PARADIGM"] and isinstance(mod.PARADIGM, Paradigm)
    assert not hasattr(mod, "DRIVER")


def test_no_engine_module_names_the_screens():
    for path in sorted((ROOT / "paradigms" / "engine").glob("*.py")):
        named = [m for m in _imports(path) if "screens" in m.split(".")]
        assert not named, f"{path.name} imports {named}"
        assert "paradigms.screens" not in path.read_text(encoding="utf-8"), path.name


def test_no_analysis_module_names_a_study():
    ids = paradigms.names()
    for path in sorted((ROOT / "analysis").rglob("*.py")):
        if "examples" in path.parts:  # the example scripts reproduce one named study on purpose
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ids:
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno}: names the study {node.value!r}")


def test_the_engine_chooses_its_driver_and_the_screens_their_class_by_session_type():
    from paradigms.engine.drivers import FieldDriver, LabDriver, MailDriver, driver_for
    from paradigms.screens import registry
    from paradigms.vocab.mail import MailSession
    kinds = {n: type(driver_for(paradigms.get(n))) for n in paradigms.names()}
    assert kinds == {"cialdini1975": FieldDriver, "regan1971": LabDriver, "burger1986": FieldDriver,
                     "pollock1998": FieldDriver, "kunz1976": MailDriver}
    assert set(registry._SCREENS) == {FieldSession, LabSession, MailSession}

    class Kiosk(FieldSession):  # a subclass of a registered type is run and drawn as its base
        pass
    p = replace(paradigms.get("cialdini1975"), session=Kiosk())
    assert type(driver_for(p)) is FieldDriver

    class Unknown(SessionType):
        setting = "field"
    q = replace(paradigms.get("cialdini1975"), session=Unknown())
    with pytest.raises(TypeError, match="no session driver for Unknown"):
        driver_for(q)


@pytest.mark.parametrize("change,message", [
    ({"setting": "online"}, "setting must be one of field, lab, mail, not 'online'"),
    ({"outcome": "rating"}, "outcome must be one of binary, count, not 'rating'"),
    ({"session": "tablet"}, "session must be a session type"),
    ({"setting": "lab"}, "session FieldSession is for the field setting, but setting is 'lab'"),
    ({"outcome": "count"}, "plan ContrastPlan does not analyse a count outcome"),
    ({"id": "Cialdini 1975"}, "id must be a lower-case identifier"),
    ({"experiments": ()}, "experiments: at least one is needed"),
    ({"session": FieldSession(speak_first=0.2)}, "speak_first needs a step with a timed cue"),
])
def test_a_paradigm_checks_its_own_fields_and_names_the_bad_one(change, message):
    with pytest.raises(DeclarationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        replace(paradigms.get("cialdini1975"), **change)


def test_a_binary_model_must_rate_every_condition():
    p = paradigms.get("cialdini1975")
    e = p.experiments[0]
    rates = dict(e.model.rates)
    rates.pop(e.condition_names[0])
    bad = replace(e, model=replace(e.model, rates=rates))
    with pytest.raises(DeclarationError, match=f"no simulation rate for {e.condition_names[0]}"):
        replace(p, experiments=(bad,) + p.experiments[1:])


def test_one_response_type_and_one_set_of_journal_names(tmp_path):
    """Field and lab sessions journal the same event names, with the value under one key."""
    from paradigms.engine.sessions import simulate
    names = {}
    for pid in ("cialdini1975", "regan1971"):
        res = simulate(paradigms.get(pid), 1, 3, seed=2, data_dir=tmp_path / pid)
        events = [json.loads(x) for x in res.csv_path.with_name(
            res.csv_path.name.replace("_data.csv", "_events.jsonl")).read_text().splitlines()]
        names[pid] = {e["event"] for e in events}
        answers = [e for e in events if e["event"] == "response"]
        assert answers and all(("value" in e) != ("chars" in e) for e in answers)
        assert all("code" not in e for e in events)
    assert names["cialdini1975"] == names["regan1971"] >= {"show", "participant", "response", "row_written"}
