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
	$(BIN)/python -m pip install --quiet -e '.[session,test]'
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

# The whole suite; screen tests run under a virtual display.
test: $(STAMP)
ifdef XVFB
	xvfb-run -a -s "-screen 0 1280x800x24" $(BIN)/python -m pytest
else
	$(BIN)/python -m pytest
endif

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
