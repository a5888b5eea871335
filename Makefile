# Two commands: `make demo` sets everything up and runs the main job; `make test` runs the tests.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := data/sessions/demo
XVFB   := $(shell command -v xvfb-run 2>/dev/null)

.PHONY: demo test setup protocols bench clean-demo

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Python 3.10-3.12 needed; set PYTHON=...)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[session,test,cluster]'
	touch $(STAMP)

setup: $(STAMP)

# Simulated Experiment 1 of Cialdini et al. (1975): 72 passers-by, then the analysis.
demo: $(STAMP)
	rm -rf $(DEMO)
	$(BIN)/compliance simulate cialdini1975 --experiment 1 --participants 72 --seed 2026 --data-dir $(DEMO) --quiet
	$(BIN)/compliance analyze $(DEMO) --plot $(DEMO)/compliance.png
	$(BIN)/compliance reproduce cialdini1975 --experiment 1
	$(BIN)/compliance report $(DEMO) --out $(DEMO)/report.html
	@echo "open $(DEMO)/report.html in a browser: the whole analysis on one page"

# The whole suite, in two runs (both always run; the status is the worse of the two):
# 1. every test that needs no screen, in parallel (pytest-xdist, TEST_JOBS workers, a module's tests on one
#    worker so module fixtures are built once), with no display at all: a test that opens a window
#    without the `screen` marker fails here instead of passing by luck;
# 2. the `screen` and `browser` tests, one at a time, under a virtual display (real key presses and
#    window focus do not share a display).
TEST_JOBS ?= auto
XRUN := $(if $(XVFB),xvfb-run -a -s "-screen 0 1280x800x24",)
test: $(STAMP)
	@status=0; \
	env -u DISPLAY -u WAYLAND_DISPLAY $(BIN)/python -m pytest -m "not screen and not browser" \
		-n $(TEST_JOBS) --dist loadfile || status=$$?; \
	$(XRUN) $(BIN)/python -m pytest tests -m "screen or browser" -p no:xdist || status=$$?; \
	exit $$status

protocols: $(STAMP)
	for p in $$($(BIN)/python -c "import paradigms; print(' '.join(paradigms.names()))"); do \
		$(BIN)/compliance protocol $$p --out protocols/$$p.md --force; done

# Speed, as ratios to baselines measured in the same run; the launch benchmark opens windows.
bench: $(STAMP)
ifdef XVFB
	xvfb-run -a -s "-screen 0 1280x800x24" $(BIN)/python -m pytest benchmarks -p no:cacheprovider --benchmark-enable --benchmark-only -q
else
	$(BIN)/python -m pytest benchmarks -p no:cacheprovider --benchmark-enable --benchmark-only -q
endif
	$(BIN)/python benchmarks/p2_load.py   # P2: 1,000,000 rows in 500 files, load and analyze vs pyarrow's bare read
