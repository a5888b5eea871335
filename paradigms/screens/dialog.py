"""The start dialog of ``compliance run``: what the flags did not give, asked in one window.

It asks for the schedule (typed, or picked with a file dialog), the
experiment (read from the schedule when one is given: the schedule's own
``.meta.json`` says which experiment it was made for), the site and the
experimenter.  Whatever is wrong is said in the dialog, in red, next to
nothing else changing: the dialog stays open until the input is valid or the
user cancels.

The checking is :func:`validate_start`, a pure function (no Qt, no display),
so it is tested on its own; :func:`ask_start` is the Qt window around it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

__all__ = ["Start", "StartCancelled", "schedule_experiment", "validate_start", "ask_start"]

_CODE = re.compile(r"^[A-Za-z0-9]+$")
#: the dialog's window title ends so (tests find the window by it)
TITLE = "start a session"


@dataclass(frozen=True)
class Start:
    """What a session starts with: a valid schedule, its experiment, the site and experimenter codes."""

    schedule: str
    experiment: int
    site: str
    experimenter: str


class StartCancelled(Exception):
    """The user closed the start dialog."""


def schedule_experiment(path) -> Optional[int]:
    """The experiment a schedule was made for (its ``.meta.json``), or ``None`` if it cannot be read.

    Examples
    --------
    >>> schedule_experiment("/nonexistent/s.csv") is None
    True
    """
    meta = Path(str(path) + ".meta.json")
    try:
        value = json.loads(meta.read_text(encoding="utf-8")).get("experiment")
        return int(value) if value is not None else None
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def validate_start(paradigm, schedule: str, site: str, experimenter: str,
                   experiment: Optional[int] = None, pilot: bool = False) -> tuple[Optional[Start], dict]:
    """Check the start dialog's fields; ``(Start, {})`` when all are valid, else ``(None, errors)``.

    ``errors`` maps a field (``schedule``, ``experiment``, ``site``,
    ``experimenter``) to a one-line message.  The experiment is the
    schedule's own when the schedule says (``experiment`` is then only a
    default); the schedule is read and checked as ``run`` reads it (its
    SHA-256, its paradigm, its conditions), and a schedule whose slots are
    all used is refused unless ``pilot`` (a pilot takes no slots).  Nothing is
    written.
    """
    from ..engine.schedule import ScheduleError, SlotLedger, load_schedule
    errors: dict[str, str] = {}
    schedule, site, experimenter = (str(v or "").strip() for v in (schedule, site, experimenter))
    numbers = [e.number for e in paradigm.experiments]
    from_schedule = schedule_experiment(schedule) if schedule else None
    exp = from_schedule if from_schedule is not None else experiment
    if exp is None:
        exp = numbers[0]
    if exp not in numbers:
        errors["experiment"] = (f"{paradigm.id} has experiment{'s' if len(numbers) > 1 else ''} "
                                f"{', '.join(map(str, numbers))}, not {exp}")
    if not schedule:
        errors["schedule"] = "required: the pre-registered schedule CSV (compliance schedule makes one)"
    elif not Path(schedule).is_file():
        errors["schedule"] = f"{schedule}: no such file"
    elif "experiment" not in errors:
        try:
            sched = load_schedule(schedule, paradigm, exp)
            if not pilot and SlotLedger(sched).remaining() == 0:
                errors["schedule"] = f"{schedule}: all {len(sched.slots)} slots are used; make a new schedule"
        except (ScheduleError, ValueError, OSError) as exc:
            errors["schedule"] = str(exc).strip().splitlines()[0]
    for name, value, example in (("site", site, "S1"), ("experimenter", experimenter, "E1")):
        if not value:
            errors[name] = f"required: a code of letters and digits, e.g. {example}"
        elif not _CODE.match(value):
            errors[name] = f"{value!r}: letters and digits only, e.g. {example}"
    if errors:
        return None, errors
    return Start(schedule, int(exp), site, experimenter), {}


def ask_start(paradigm, schedule: str = "", site: str = "", experimenter: str = "",
              experiment: Optional[int] = None, pilot: bool = False,
              on_error: Optional[Callable[[dict], None]] = None) -> Start:
    """The Qt dialog; returns a valid :class:`Start` or raises :class:`StartCancelled`.

    ``on_error(errors)`` is called each time OK is pressed with invalid input
    (the command prints them to the terminal as well).
    """
    from PyQt6 import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["compliance"])
    dlg = QtWidgets.QDialog()
    dlg.setWindowTitle(f"{paradigm.id}: {TITLE}")
    dlg.setMinimumWidth(560)
    form = QtWidgets.QFormLayout()

    sched_edit = QtWidgets.QLineEdit(schedule)
    sched_edit.setPlaceholderText("path of the schedule CSV")
    browse = QtWidgets.QPushButton("Browse…")
    browse.setAutoDefault(False)
    row = QtWidgets.QHBoxLayout()
    row.addWidget(sched_edit, 1)
    row.addWidget(browse)
    form.addRow("Schedule", row)

    exp_box = QtWidgets.QComboBox()
    for e in paradigm.experiments:
        exp_box.addItem(f"{e.number}: {e.title}", e.number)
    exp_note = QtWidgets.QLabel("")
    exp_note.setStyleSheet("color: #5b5b60")
    form.addRow("Experiment", exp_box)
    form.addRow("", exp_note)

    site_edit = QtWidgets.QLineEdit(site)
    site_edit.setPlaceholderText("site code, e.g. S1")
    who_edit = QtWidgets.QLineEdit(experimenter)
    who_edit.setPlaceholderText("your pseudonymous code, e.g. E1")
    form.addRow("Site", site_edit)
    form.addRow("Experimenter", who_edit)

    error = QtWidgets.QLabel("")
    error.setStyleSheet("color: #b3261e; font-weight: bold")
    error.setWordWrap(True)
    buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                         | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
    layout = QtWidgets.QVBoxLayout(dlg)
    layout.addLayout(form)
    layout.addWidget(error)
    layout.addWidget(buttons)
    widgets = {"schedule": sched_edit, "experiment": exp_box, "site": site_edit, "experimenter": who_edit}

    def select_experiment(number) -> None:
        i = exp_box.findData(number)
        if i >= 0:
            exp_box.setCurrentIndex(i)

    if experiment is not None:
        select_experiment(experiment)

    def schedule_changed() -> None:
        number = schedule_experiment(sched_edit.text().strip()) if sched_edit.text().strip() else None
        if number is not None:
            select_experiment(number)
            exp_note.setText(f"experiment {number}, as the schedule says")
        else:
            exp_note.setText("")
        exp_box.setEnabled(number is None)

    def pick() -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            dlg, "Choose the schedule", sched_edit.text().strip() or str(Path.cwd()),
            "Schedules (*.csv);;All files (*)", options=QtWidgets.QFileDialog.Option.DontUseNativeDialog)
        if path:
            sched_edit.setText(path)
        # back to the dialog, focus where Enter presses OK: the window manager may give it elsewhere
        dlg.raise_()
        dlg.activateWindow()
        sched_edit.setFocus()

    result: dict = {}

    def ok() -> None:
        start, errors = validate_start(paradigm, sched_edit.text(), site_edit.text(), who_edit.text(),
                                       exp_box.currentData(), pilot=pilot)
        for name, w in widgets.items():
            w.setStyleSheet("border: 2px solid #b3261e" if name in errors else "")
        if errors:
            error.setText("\n".join(f"{k}: {v}" for k, v in errors.items()))
            widgets[next(iter(errors))].setFocus()
            if on_error is not None:
                on_error(errors)
            return
        result["start"] = start
        dlg.accept()

    sched_edit.textChanged.connect(schedule_changed)
    browse.clicked.connect(pick)
    buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setDefault(True)  # Enter, from any field
    buttons.accepted.connect(ok)
    buttons.rejected.connect(dlg.reject)
    schedule_changed()
    first_empty = next((w for w in (sched_edit, site_edit, who_edit) if not w.text().strip()), sched_edit)
    QtCore.QTimer.singleShot(0, first_empty.setFocus)
    dlg.show()
    dlg.raise_()
    dlg.activateWindow()
    accepted = dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted
    dlg.deleteLater()
    app.processEvents()
    if not accepted or "start" not in result:
        raise StartCancelled("start dialog cancelled; nothing was written")
    return result["start"]
