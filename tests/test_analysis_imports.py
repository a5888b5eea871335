"""analysis never imports PsychoPy, and its public API is what __all__ says."""
import subprocess
import sys


def test_importing_analysis_does_not_import_psychopy():
    code = ("import sys, analysis, analysis.cli, analysis.plot, analysis.reproduce, analysis.load; "
            "analysis.reproduce('cialdini1975', 1); "
            "bad = [m for m in sys.modules if m == 'psychopy' or m.startswith('psychopy.')]; "
            "assert not bad, bad; print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_public_api_resolves():
    import analysis
    assert len(analysis.__all__) == len(set(analysis.__all__))
    for name in analysis.__all__:
        assert getattr(analysis, name) is not None, name
