"""``compliance run regan1971`` end to end, driven from outside like the experimenter and the
participant would: real X key presses, typed text and mouse clicks sent with xdotool to the
PsychoPy window of a separate process, through one complete participant of the lab session.

Waiting: the screen journals ``drawn`` at each screen's first frame, and input that arrives
while the next screen is being built is dropped and journalled (``ignored_during_transition``).
So after each answer the test waits until the journal has taken the answer *and* a new screen
has been drawn.  Within a screen (a rating set by a key or a click) it waits on the picture:
it grabs the window until it shows something new and holds still.  The text boxes are masked out of the comparison (their caret
blinks); after typing, the test waits until the text is drawn before it presses Enter (see
``Operator.type``)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time

import pandas as pd
import pytest

from tests.conftest import BIN

pytestmark = pytest.mark.screen

TIMEOUT = 20.0  # seconds any one screen may take to come up (generous: a loaded CI machine)
SUSPICION = 'Art, I guess; but maybe "Joe" and the raffle were part of it'
PAINTINGS = [7, 6, 5, 2, 9, 4, 3, 8, 1, 5, 6, 4]  # 1: mouse on the scale, 2: right arrow (5 -> 6)
LIKING = [6, 7, 5, 8]


def _xdo(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=20)


def _window_id(proc, stderr, timeout=40.0):
    t0 = time.time()
    while time.time() - t0 < timeout:
        assert proc.poll() is None, stderr.read_text()
        out = _xdo("search", "--name", "PsychoPy").stdout.split()
        if out:
            return out[0]
        time.sleep(0.2)
    raise AssertionError("the session window never appeared")


class Operator:
    """The person at the keyboard, who looks at the screen before each key."""

    def __init__(self, proc, wid, journal):
        from PIL import ImageGrab  # X11 grab (Pillow built with XCB)
        self._grab_fn = ImageGrab.grab
        self.proc, self.wid, self.journal = proc, wid, journal
        self.read_geometry()
        # where the screens put their parts in a window of this size (the layout is a pure function
        # of the prompt and the window's size, so the person at the keyboard can know it)
        from paradigms.screens.layout import lab_boxes

        from tests.screens.test_layout import _lab_prompts
        self.layout = {pr.kind: lab_boxes(pr, (self.w, self.h)) for pr in _lab_prompts()[2] if not pr.error}
        # height units -> window pixels: the text boxes (their carets blink), padded
        u = lambda b: (self.w / 2 + (b.x - b.width / 2 - 0.02) * self.h,  # noqa: E731
                       self.h / 2 - (b.top + 0.02) * self.h,
                       self.w / 2 + (b.x + b.width / 2 + 0.02) * self.h,
                       self.h / 2 - (b.bottom - 0.02) * self.h)
        self.masks = [u(self.layout["tickets"]["entry"]), u(self.layout["text"]["entry"])]

    def read_geometry(self):
        """Where the window is.  Read again until the first screen is seen: the window is created, then
        centred on the display (on a display taller or wider than the window it moves after it appears)."""
        geo = dict(line.split("=", 1) for line in _xdo("getwindowgeometry", "--shell", self.wid).stdout.split())
        self.x, self.y, self.w, self.h = (int(geo[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))

    # -- looking ------------------------------------------------------------
    def image(self):
        self.alive()
        return self._grab_fn(bbox=(self.x, self.y, self.x + self.w, self.y + self.h))

    def look(self, region=None):
        """A fingerprint of what the window shows (text boxes masked; or only ``region``)."""
        from PIL import ImageDraw
        im = self.image()
        if region is not None:
            im = im.crop(tuple(int(v * self.h) if i % 2 else int(v * self.w) for i, v in enumerate(region)))
        else:
            draw = ImageDraw.Draw(im)
            for box in self.masks:
                draw.rectangle(box, fill=(0, 0, 0))
        return hashlib.sha1(im.tobytes()).hexdigest()

    def fail(self, msg):
        """Fail with the window's picture saved next to the data (for the report)."""
        shot = self.journal.parent.parent / "failure.png"
        try:
            self.image().save(shot)
            msg += f" (the window: {shot})"
        except Exception:  # noqa: BLE001  (the process may be gone)
            pass
        raise AssertionError(msg)

    def alive(self):
        if self.proc.poll() is not None:
            err = (self.journal.parent.parent / "stderr.txt").read_text()
            raise AssertionError(f"the session ended early (rc {self.proc.returncode}):\n{err}")

    def wait_change(self, before, what):
        """Until the window shows something other than ``before`` and holds still."""
        t0 = time.time()
        while time.time() - t0 < TIMEOUT:
            now = self.look()
            if now != before:
                time.sleep(0.15)
                if self.look() == now:
                    return now
            time.sleep(0.05)
        self.fail(f"the screen did not change after {what}")

    def experimenter_band(self):
        """Whether the window shows the orange band of an experimenter's screen (top-left pixel)."""
        band = self.image().getpixel((10, 10))
        return abs(band[0] - 0xC7) < 8 and abs(band[1] - 0x50) < 8 and band[2] < 8

    def wait_first_screen(self):
        t0 = time.time()
        while time.time() - t0 < TIMEOUT:
            self.read_geometry()
            band = self.image().getpixel((10, 10))  # the orange experimenter band of the ready screen
            if abs(band[0] - 0xC7) < 8 and abs(band[1] - 0x50) < 8 and band[2] < 8:
                now = self.look()
                time.sleep(0.15)
                if self.look() == now:
                    return
            time.sleep(0.1)
        raise AssertionError("the ready screen never appeared")

    # -- the journal ----------------------------------------------------------
    def events(self):
        if not self.journal.exists():
            return []
        lines = self.journal.read_text().split("\n")[:-1]  # not a line still being written
        return [json.loads(x) for x in lines if x.strip()]

    def answers(self):
        return [e for e in self.events() if e["event"] in ("response", "refused")]

    # -- acting ---------------------------------------------------------------
    def key(self, *names):
        _xdo("key", "--delay", "60", *names)

    def type(self, text, big=False):
        """Type ``text`` into the focused text box and wait until it is on the screen.

        Only then may Enter follow: PsychoPy 2026.2's event-backend ``Keyboard`` keeps just the
        first of the key presses that arrive between two polls (``dispatchMessages`` takes
        ``event.getKeys()[0]``), so an Enter that lands in the same poll as the last letter is
        lost (the box gets the newline, the screen never answers).  Once the text is drawn its
        key presses have been polled, and an Enter sent now comes in a poll of its own.
        """
        _xdo("type", "--delay", "40", text)
        t0, last = time.time(), None
        while time.time() - t0 < TIMEOUT:
            now = self.box(big)
            if now == last and now[1]:
                return
            last = now
        self.fail(f"the typed text {text!r} never showed in the box")

    def box(self, big):
        """The inside of the ticket box (or the big answer box) without the blinking caret
        (the lightest pixel over a second: the caret is off 0.4 s of every second), and
        whether any text is in it."""
        from PIL import ImageChops
        a, b, c, d = self.masks[1 if big else 0]
        inner = (int(a + 24), int(b + 24), int(c - 24), int(d - 24))  # inside the border
        t0, comp = time.time(), None
        while time.time() - t0 < 1.05 or comp is None:
            part = self.image().crop(inner).convert("L")
            comp = part if comp is None else ImageChops.lighter(comp, part)
            time.sleep(0.03)
        return hashlib.sha1(comp.tobytes()).hexdigest(), comp.getextrema()[0] < 100

    def click(self, px, py, hold=0.3):
        """A real click at window pixel (px, py): press, hold like a finger does, release."""
        _xdo("mousemove", "--window", self.wid, str(int(px)), str(int(py)))
        time.sleep(0.1)
        _xdo("mousedown", "1")
        time.sleep(hold)
        _xdo("mouseup", "1")

    def px(self, x, y):
        """Height units (PsychoPy, origin at the centre) -> window pixels."""
        return self.w / 2 + x * self.h, self.h / 2 - y * self.h

    def button(self, kind, i):
        """Window pixels of the centre of the ``i``-th button drawn on a ``kind`` screen."""
        return self.px(*self.layout[kind]["buttons"][i][0])

    def tick(self, kind, value, low=1, high=9):
        """Window pixels of the scale's tick for ``value``."""
        from paradigms.screens.layout import slider_line
        y, _, length = slider_line(self.layout[kind]["slider"], high - low + 1)
        return self.px(-length / 2 + (value - low) * length / (high - low), y)

    def answer(self, act, screen, kind="response", value=None):
        """Do ``act`` on the screen shown now; it must be journalled as ``kind`` on ``screen``
        (with ``value`` if given), and the next screen must come up."""
        before, n, shown = self.look(), len(self.answers()), self.n_drawn()
        act()
        t0 = time.time()
        while len(self.answers()) == n and time.time() - t0 < TIMEOUT:
            self.alive()
            time.sleep(0.05)
        got = self.answers()[n:]
        if len(got) != 1:
            self.fail(f"{screen}: expected one answer, the journal has {got}")
        e = got[0]
        assert (e["event"], e["screen"]) == (kind, screen), f"expected {kind} on {screen}, got {e}"
        if value is not None:
            assert e.get("value") == value, f"{screen}: journalled {e.get('value')!r}, expected {value!r}"
        return self.wait_drawn(shown, f"the answer on {screen}")

    def n_drawn(self):
        return sum(1 for e in self.events() if e["event"] == "drawn")

    def wait_drawn(self, n, what):
        """Until the screen has journalled a first frame after the ``n``-th (the answered button is
        lit for a moment before the next screen: a changed picture alone is not the next screen)."""
        t0 = time.time()
        while self.n_drawn() <= n:
            if time.time() - t0 > TIMEOUT:
                self.fail(f"no new screen was drawn after {what}")
            self.alive()
            time.sleep(0.02)
        return self.look()

    def ignored(self, act, what):
        """``act`` must change neither the journal nor the screen."""
        before, n = self.look(), len(self.events())
        act()
        time.sleep(1.0)
        assert len(self.events()) == n, f"{what} was taken: {self.events()[n:]}"
        assert self.look() == before, f"{what} changed the screen"


def test_run_lab_session_with_real_keys_typing_and_clicks(cli, tmp_path):
    if shutil.which("xdotool") is None:
        pytest.fail("xdotool is needed for this test (apt-get install xdotool; .ci/run installs it)")
    cli("schedule", "regan1971", "--participants", "6", "--seed", "3", "--out", "s.csv", check=0)
    sched = pd.read_csv(tmp_path / "s.csv")
    # output to files, not pipes: nobody reads a pipe while the session runs
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with open(stdout, "w") as out, open(stderr, "w") as err:
        proc = subprocess.Popen([str(BIN / "compliance"), "run", "regan1971", "--schedule", "s.csv", "--site", "S1",
                                 "--experimenter", "E1", "--data-dir", "d", "--windowed"], cwd=tmp_path,
                                stdout=out, stderr=err, text=True, env={**os.environ, "COMPLIANCE_WINDOWED": "1"})
    journal = tmp_path / "d" / "study-regan1971_exp-1_site-S1_session-1_events.jsonl"
    try:
        wid = _window_id(proc, stderr)
        _xdo("windowfocus", "--sync", wid)
        op = Operator(proc, wid, journal)
        op.wait_first_screen()
        _xdo("windowfocus", "--sync", wid)

        # experimenter: next participant, then the cue card
        op.answer(lambda: op.key("space"), "ready", value="next")
        (part,) = [e for e in op.events() if e["event"] == "participant"]
        assert part["slot"] == 1 and part["condition"] == sched["condition"][0]
        op.answer(lambda: op.key("space"), "cue_card", value="next")
        # participant: consent by a click on "I agree" (the first of the two buttons)
        op.answer(lambda: op.click(*op.button("consent", 0)), "consent", value="agree")
        # a break waits for the experimenter's F9; the participant's keys do nothing there
        op.ignored(lambda: op.key("space"), "Space on the break screen")
        op.ignored(lambda: op.key("Return"), "Enter on the break screen")
        op.answer(lambda: op.key("F9"), "break:setup", value="next")

        for i, rating in enumerate(PAINTINGS, start=1):
            col = f"painting_{i:02d}"
            if i == 1:
                # no rating yet: Space does not go on
                op.ignored(lambda: op.key("space"), "Space before a rating")
                # click the scale at the rating's tick
                shown = op.look()
                op.click(*op.tick("painting", rating))
                op.wait_change(shown, "the click on the scale")
                # then the Continue button (appears once rated)
                op.answer(lambda: op.click(*op.px(*op.layout["painting"]["continue"].centre)), f"painting:{col}",
                          value=rating)
            elif i == 2:
                shown = op.look()
                op.key("Right")  # from the middle of the scale (5) one step right
                op.wait_change(shown, "the right arrow")
                op.answer(lambda: op.key("space"), f"painting:{col}", value=rating)
            else:
                shown = op.look()
                op.key(str(rating))
                op.wait_change(shown, f"the key {rating}")
                op.answer(lambda: op.key("space"), f"painting:{col}", value=rating)
            if i == 6:
                op.answer(lambda: op.key("F9"), "break:break", value="next")
        op.answer(lambda: op.key("F9"), "break:forms", value="next")

        # the questionnaire: four liking ratings and how well he knew the partner (digits, then Enter)
        for j, rating in enumerate(LIKING + [1], start=1):
            col = f"like_{j:02d}" if j <= 4 else "knew_partner"
            shown = op.look()
            op.key(str(rating))
            op.wait_change(shown, f"the key {rating}")
            op.answer(lambda: op.key("Return"), f"rating:{col}", value=rating)
        # the suspicion probe: typed for real (pyglet's on_text), journalled by length only
        op.answer(lambda: (op.type(SUSPICION, big=True), op.key("Return")), "text:suspicion")
        assert op.answers()[-1]["chars"] == len(SUSPICION)
        assert SUSPICION not in journal.read_text()
        # the participant's last answer: his screen is handed over, not switched to the experimenter's
        assert not op.experimenter_band(), "the participant's screen went straight to an experimenter screen"
        op.ignored(lambda: op.key("space"), "Space on the hand-over screen")
        op.answer(lambda: op.key("F9"), "handover", value="next")
        assert op.experimenter_band(), "F9 on the hand-over screen did not bring the experimenter's screen"

        # experimenter: the confederate's report of the three scripted events
        for step in ("phone_call", "drink", "ticket_request"):
            op.answer(lambda: op.key("d"), f"fidelity:{step}", value="as_scripted")

        # tickets, typed twice; a word and an out-of-range number are refused, the screen stays
        title = (0.0, 0.0, 1.0, 0.2)  # band, header and title of the experimenter's screen
        t_first = op.look(title)
        op.answer(lambda: (op.type("two"), op.key("Return")), "tickets", kind="refused", value="two")
        assert op.look(title) == t_first, "a refused ticket entry moved the screen on"
        op.answer(lambda: (op.type("3"), op.key("Return")), "tickets", value="3")
        t_confirm = op.look(title)
        assert t_confirm != t_first, "the confirmation screen did not come up"
        op.answer(lambda: (op.type("21"), op.key("Return")), "tickets_confirm", kind="refused", value="21")
        assert op.look(title) == t_confirm, "a refused confirmation moved the screen on"
        refused = [e for e in op.events() if e["event"] == "refused"]
        assert [e["value"] for e in refused] == ["two", "21"]
        assert "outside 0..20" in refused[1]["message"]
        op.answer(lambda: (op.type("3"), op.key("Return")), "tickets_confirm", value="3")

        # exclusion: suspicious [1]
        op.answer(lambda: op.key("1"), "exclusion", value="suspicious")
        # participant: debriefing; "Yes, use my answers" by a click
        op.answer(lambda: op.click(*op.button("debrief", 0)), "debrief", value="keep")
        assert not op.experimenter_band(), "the debriefed participant was left looking at the ready screen"
        op.answer(lambda: op.key("F9"), "handover", value="next")

        # back at the ready screen: Esc asks, N goes back, Q ends the session
        shown, n = op.look(), op.n_drawn()
        op.key("Escape")
        op.wait_drawn(n, "Escape")
        n = op.n_drawn()
        op.key("n")
        assert op.wait_drawn(n, "N on the quit question") == shown, "N did not go back to the ready screen"
        n = op.n_drawn()
        op.key("q")  # Q asks first, as Esc does
        op.wait_drawn(n, "Q on the ready screen")
        assert [e for e in op.events() if e["event"] == "drawn"][-1]["screen"] == "confirm_end"
        n = op.n_drawn()
        op.key("y")
        op.wait_drawn(n, "Y on the question")  # the session's summary, until Space
        assert op.events()[-2]["event"] == "message" and "1 participant recorded" in op.events()[-2]["text"]
        op.key("space")
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr.read_text()
    assert "session completed: 1 participant in" in stdout.read_text()

    (csv_path,) = (tmp_path / "d").glob("*_data.csv")
    df = pd.read_csv(csv_path, keep_default_na=False)
    assert len(df) == 1
    row = df.iloc[0]
    assert row["slot"] == 1 and row["condition"] == sched["condition"][0]
    assert (row["favor"], row["liking"]) == (sched["favor"][0], sched["liking"][0])
    assert (row["site"], row["experimenter"]) == ("S1", "E1")
    assert row["tickets"] == 3
    assert row["suspicion"] == SUSPICION
    assert [row[f"painting_{i:02d}"] for i in range(1, 13)] == PAINTINGS
    assert [row[f"like_{j:02d}"] for j in range(1, 5)] == LIKING and row["knew_partner"] == 1
    assert row["liking_score"] == pytest.approx(sum(LIKING) / 4)
    assert [row[f"{s}_answer"] for s in ("phone_call", "drink", "ticket_request")] == ["as_scripted"] * 3
    assert (row["excluded"], row["exclusion_reason"]) == (1, "suspicious")
    assert (row["debriefed"], row["data_consent"]) == (1, 1)
    assert row["t_start"] < row["t_end"]

    meta = json.loads(csv_path.with_suffix(".json").read_text())
    assert meta["status"] == "completed" and meta["n_rows"] == 1 and meta["mode"] == "run"
    assert meta["schedule_sha256"] == (tmp_path / "s.csv.sha256").read_text().split()[0]
    used = [json.loads(x)["slot"] for x in (tmp_path / "s.csv.slots.log").read_text().splitlines()]
    assert used == [1]
