# Two commands do everything on a fresh machine with Python 3.11:
#   make report   build the full static report into reports/
#   make test     run every test (unit, reference, doctest, notebooks, browser)
#   make pdf      print the report (built first if missing) to reports/report.pdf
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: report pdf test test-fast lab validate snapshot benchmark clean

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

report: $(STAMP)
	$(PY) -m analysis report

# Needs Chromium (Debian: apt-get install chromium; or set CHROMIUM_PATH).
pdf: $(STAMP)
	@test -f reports/index.html || $(PY) -m analysis report
	$(PY) -m analysis pdf

# pytest exits 5 when it collects nothing: a test run that ran no test is a failure.
# TEST_PROCESSES test processes share the work (pytest-xdist; tests/conftest.py groups it).
TEST_PROCESSES ?= 2
test: $(STAMP)
	@$(PY) -m pytest -n $(TEST_PROCESSES) --doctest-modules --nbval-lax analysis tests notebooks; status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; exit $$status

# The fast loop: every unit, reference and doctest test, without building the report (< 1 min).
test-fast: $(STAMP)
	@$(PY) -m pytest --doctest-modules -m "not build" analysis tests; status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; exit $$status

validate: $(STAMP)
	$(PY) -m analysis validate

# After adding a trial: record the claim verdicts and the headline numbers for review, printing
# what changed (tests/snapshots/claim_verdicts.csv, tests/snapshots/headline_numbers.json).
snapshot: $(STAMP)
	$(PY) -m analysis snapshot

lab: $(STAMP)
	$(VENV)/bin/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks

# The explorer as a web app without code (Voila) on 127.0.0.1; Ctrl-C stops it.
# EXPLORE_PORT=0 takes a free port; EXPLORE_POOL kernels are preheated (0: none).
# tests/test_explorer_browser.py runs this same command.
EXPLORE_PORT ?= 8866
EXPLORE_POOL ?= 6
.PHONY: explore
explore: $(STAMP)
	$(PY) -m analysis.apps.explorer.serve --port $(EXPLORE_PORT) --pool $(EXPLORE_POOL)

benchmark: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[benchmark]"
	$(PY) benchmarks/bench_pooling.py
	$(PY) benchmarks/bench_proportions.py
	$(PY) benchmarks/bench_explorer.py
	$(PY) benchmarks/bench_bayesian.py
	$(PY) benchmarks/bench_multiverse.py
	$(PY) benchmarks/coverage.py

clean:
	rm -rf $(VENV) reports_build_* reports_old_*
