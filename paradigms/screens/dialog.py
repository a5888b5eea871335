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


class _StartForm:
    """The start dialog's widgets and their behaviour (the steps of :func:`ask_start`)."""

    def __init__(self, paradigm, schedule: str, site: str, experimenter: str, pilot: bool,
                 on_error: Optional[Callable[[dict], None]]) -> None:
        from PyQt6 import QtWidgets

        self.paradigm, self.pilot, self.on_error, self.result = paradigm, pilot, on_error, {}
        self.dlg = dlg = QtWidgets.QDialog()
        dlg.setWindowTitle(f"{paradigm.id}: {TITLE}")
        dlg.setMinimumWidth(560)
        form = QtWidgets.QFormLayout()
        self._schedule_row(form, schedule)
        self._experiment_rows(form)
        self.site_edit = QtWidgets.QLineEdit(site)
        self.site_edit.setPlaceholderText("site code, e.g. S1")
        self.who_edit = QtWidgets.QLineEdit(experimenter)
        self.who_edit.setPlaceholderText("your pseudonymous code, e.g. E1")
        form.addRow("Site", self.site_edit)
        form.addRow("Experimenter", self.who_edit)
        self.error = QtWidgets.QLabel("")
        self.error.setStyleSheet("color: #b3261e; font-weight: bold")
        self.error.setWordWrap(True)
        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                                  | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        layout = QtWidgets.QVBoxLayout(dlg)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.widgets = {"schedule": self.sched_edit, "experiment": self.exp_box, "site": self.site_edit,
                        "experimenter": self.who_edit}

    def _schedule_row(self, form, schedule: str) -> None:
        from PyQt6 import QtWidgets

        self.sched_edit = QtWidgets.QLineEdit(schedule)
        self.sched_edit.setPlaceholderText("path of the schedule CSV")
        self.browse = QtWidgets.QPushButton("Browse…")
        self.browse.setAutoDefault(False)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.sched_edit, 1)
        row.addWidget(self.browse)
        form.addRow("Schedule", row)

    def _experiment_rows(self, form) -> None:
        from PyQt6 import QtWidgets

        self.exp_box = QtWidgets.QComboBox()
        for e in self.paradigm.experiments:
            self.exp_box.addItem(f"{e.number}: {e.title}", e.number)
        self.exp_note = QtWidgets.QLabel("")
        self.exp_note.setStyleSheet("color: #5b5b60")
        form.addRow("Experiment", self.exp_box)
        form.addRow("", self.exp_note)

    def select_experiment(self, number) -> None:
        i = self.exp_box.findData(number)
        if i >= 0:
            self.exp_box.setCurrentIndex(i)

    def schedule_changed(self) -> None:
        text = self.sched_edit.text().strip()
        number = schedule_experiment(text) if text else None
        if number is not None:
            self.select_experiment(number)
            self.exp_note.setText(f"experiment {number}, as the schedule says")
        else:
            self.exp_note.setText("")
        self.exp_box.setEnabled(number is None)

    def pick(self) -> None:
        from PyQt6 import QtWidgets

        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self.dlg, "Choose the schedule", self.sched_edit.text().strip() or str(Path.cwd()),
            "Schedules (*.csv);;All files (*)", options=QtWidgets.QFileDialog.Option.DontUseNativeDialog)
        if path:
            self.sched_edit.setText(path)
        # back to the dialog, focus where Enter presses OK: the window manager may give it elsewhere
        self.dlg.raise_()
        self.dlg.activateWindow()
        self.sched_edit.setFocus()

    def ok(self) -> None:
        start, errors = validate_start(self.paradigm, self.sched_edit.text(), self.site_edit.text(),
                                       self.who_edit.text(), self.exp_box.currentData(), pilot=self.pilot)
        for name, w in self.widgets.items():
            w.setStyleSheet("border: 2px solid #b3261e" if name in errors else "")
        if errors:
            self.error.setText("\n".join(f"{k}: {v}" for k, v in errors.items()))
            self.widgets[next(iter(errors))].setFocus()
            if self.on_error is not None:
                self.on_error(errors)
            return
        self.result["start"] = start
        self.dlg.accept()

    def connect(self) -> None:
        from PyQt6 import QtWidgets

        self.sched_edit.textChanged.connect(self.schedule_changed)
        self.browse.clicked.connect(self.pick)
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setDefault(True)  # Enter, from any field
        self.buttons.accepted.connect(self.ok)
        self.buttons.rejected.connect(self.dlg.reject)


def ask_start(paradigm, schedule: str = "", site: str = "", experimenter: str = "",
              experiment: Optional[int] = None, pilot: bool = False,
              on_error: Optional[Callable[[dict], None]] = None) -> Start:
    """The Qt dialog; returns a valid :class:`Start` or raises :class:`StartCancelled`.

    ``on_error(errors)`` is called each time OK is pressed with invalid input
    (the command prints them to the terminal as well).
    """
    from PyQt6 import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(["compliance"])
    f = _StartForm(paradigm, schedule, site, experimenter, pilot, on_error)
    if experiment is not None:
        f.select_experiment(experiment)
    f.connect()
    f.schedule_changed()
    first_empty = next((w for w in (f.sched_edit, f.site_edit, f.who_edit) if not w.text().strip()), f.sched_edit)
    QtCore.QTimer.singleShot(0, first_empty.setFocus)
    dlg = f.dlg
    dlg.show()
    dlg.raise_()
    dlg.activateWindow()
    accepted = dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted
    dlg.deleteLater()
    app.processEvents()
    if not accepted or "start" not in f.result:
        raise StartCancelled("start dialog cancelled; nothing was written")
    return f.result["start"]
