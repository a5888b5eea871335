"""Issue 23.9: the screens draw with the font files the toolkit ships, the same in every run; never a
face the machine's font index happens to list first (DejaVu Sans Condensed on some machines)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from paradigms.screens.layout import FONT_DIR, FONT_FILES
from tests.conftest import ROOT

pytestmark = pytest.mark.screen

_DRAW = """
import hashlib, sys
from paradigms.screens.window import open_window
from paradigms.screens.layout import Box, fit_text
win = open_window(size=(1024, 768))
from psychopy.visual.textbox2.textbox2 import allFonts
for bold in (False, True):
    print(allFonts.getFont("DejaVu Sans", 24, bold=bold).name.split("_")[0], end=" ")
    fi = allFonts.getFontsMatching("DejaVu Sans", bold)
    print(fi[0].path)
stim = fit_text(win, "Would you be interested in being considered for this?", Box(0, 0.2, -0.2, 1.2), bold=True)
stim.draw()
win.getMovieFrame(buffer="back")
frame = win.movieFrames.pop()
print(hashlib.sha256(frame.tobytes()).hexdigest())
win.close()
"""


def _draw():
    out = subprocess.run([sys.executable, "-c", _DRAW], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split("\n")


def test_the_screens_draw_the_shipped_font_and_the_same_pixels_in_two_runs():
    first, second = _draw(), _draw()
    regular, bold, pixels = first[0], first[1], first[2]
    assert regular.endswith(str(FONT_DIR / FONT_FILES[b"Book"])), regular
    assert bold.endswith(str(FONT_DIR / FONT_FILES[b"Bold"])), bold
    assert "Condensed" not in regular + bold
    assert second[:3] == first[:3], "the same text drawn twice, in two processes, gave different pixels"
    assert len(pixels) == 64


def test_the_font_files_ship_with_the_package():
    # (no tomllib on Python 3.10: the line as written)
    assert '"paradigms.screens" = ["fonts/*.ttf", "fonts/LICENSE_DEJAVU"]' in (ROOT / "pyproject.toml").read_text()
    for name in FONT_FILES.values():
        head = (FONT_DIR / name).read_bytes()[:4]
        assert head == b"\x00\x01\x00\x00", name  # a TrueType file, not a Git LFS pointer
    assert "Bitstream" in (FONT_DIR / "LICENSE_DEJAVU").read_text()
