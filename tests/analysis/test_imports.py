"""analysis never imports PsychoPy, and its public API is what __all__ says."""
import subprocess
import sys


def test_importing_analysis_does_not_import_psychopy():
    code = ("import sys, analysis, analysis.cli, analysis.plots.rates, analysis.replication.reproduce, analysis.load.sessions; "
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


def _modules_after(args):
    """Modules imported by ``compliance ARGS`` (in a fresh interpreter, output discarded)."""
    code = ("import sys; from paradigms.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('\\n'.join(sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    return set(proc.stderr.splitlines())


def test_help_and_list_import_no_statsmodels_pandas_or_scipy():
    # issue 14, part 1: `compliance --help` and `compliance list` start fast; the parser
    # imports none of the analysis libraries (measured with python -X importtime)
    heavy = ("statsmodels", "pandas", "scipy", "matplotlib", "psychopy")
    for args in (["--help"], ["list"], ["analyze", "--help"], ["reproduce", "--help"]):
        mods = _modules_after(args)
        assert "paradigms.cli" in mods, args
        bad = sorted(m for m in mods if m.split(".")[0] in heavy)
        assert not bad, (args, bad[:5])


def test_lazy_public_names_are_the_functions():
    code = ("import analysis.replication.reproduce, analysis; import analysis.load.sessions; "
            "from analysis import reproduce, load_sessions; "
            "assert callable(analysis.reproduce) and reproduce is analysis.reproduce, analysis.reproduce; "
            "assert load_sessions.__module__ == 'analysis.load.sessions'; print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "ok", proc.stderr
