"""Issue 23.10: a key press is never lost between the X server and the screen.

The evidence, with real X key presses (xdotool) into a PsychoPy window of another process that
does not poll for a while (as a session on a loaded machine does not): PsychoPy's keyboard device
(``event`` backend) takes only the first of two presses that reach it in one poll, and the second is
gone; the window's own key events (:class:`~paradigms.screens.field.KeyListener`, what the screens
poll) have both, and so does :func:`~paradigms.screens.field.poll_keys` given it."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.screen

_WINDOW = """
import sys, time
from paradigms.screens.window import open_window
from paradigms.screens.field import KeyListener, key_name, poll_keys
from psychopy.hardware import keyboard
win = open_window(size=(400, 300))
kb = keyboard.Keyboard(backend="event")
listener = KeyListener(win)
win.flip()
def not_polling():
    print("WAITING", flush=True)
    sys.stdin.readline()  # the keys are sent meanwhile; nothing pumps the window's events
# 1: the device alone, as the second call of the old poll met two pending presses
not_polling()
print("DEVICE", [key_name(k) for k in kb.getKeys(waitRelease=False)], flush=True)
print("LISTENER", listener.pop(), flush=True)
# 2: what the screens call now
not_polling()
print("POLL", poll_keys(kb, listener), flush=True)
win.close()
"""


def _line(proc, start):
    while True:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        if line.startswith(start):
            return line[len(start):].strip()


def _two_keys(proc, wid, keys):
    _line(proc, "WAITING")
    _xdo = lambda *a: subprocess.run(["xdotool", *a], capture_output=True, timeout=20)  # noqa: E731
    _xdo("windowfocus", "--sync", wid)
    for k in keys:
        _xdo("key", k)
    time.sleep(0.5)  # both presses are at the X server, queued for the window
    proc.stdin.write("\n")
    proc.stdin.flush()


def test_two_presses_in_one_poll_the_device_keeps_one_the_window_listener_both():
    if shutil.which("xdotool") is None:
        pytest.fail("xdotool is needed for this test (apt-get install xdotool; .ci/run installs it)")
    proc = subprocess.Popen([sys.executable, "-c", _WINDOW], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t0, wid = time.time(), None
        while wid is None and time.time() - t0 < 40:
            assert proc.poll() is None, proc.stderr.read()
            found = subprocess.run(["xdotool", "search", "--name", "PsychoPy"], capture_output=True,
                                   text=True).stdout.split()
            wid = found[0] if found else None
            time.sleep(0.2)
        _two_keys(proc, wid, ["a", "b"])
        device, listener = _line(proc, "DEVICE "), _line(proc, "LISTENER ")
        _two_keys(proc, wid, ["c", "d"])
        polled = _line(proc, "POLL ")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert device == "['a']", f"PsychoPy's device kept {device} of two presses"  # the second is lost there
    assert listener == "['a', 'b']"
    assert polled == "['c', 'd']"
