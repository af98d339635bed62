# Everything is built from scratch in .venv; `make test` is what CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_STORE := demo-store
MLFLOW_SPEC ?= mlflow==3.17.2
MLFLOW_PY := $(CURDIR)/benchmarks/.mlflow-venv/bin/python
MLFLOW_STAMP := benchmarks/.mlflow-venv/.installed

.PHONY: venv chromium test lint demo bench site-example example-store clean mlflow-venv

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,examples]'
	touch $(STAMP)

venv: $(STAMP)

# Debian's chromium drives the browser tests (playwright never downloads a browser).
chromium:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@test -x /usr/bin/chromium || { echo "chromium is missing: the browser tests cannot run" >&2; exit 1; }

lint: venv
	$(BIN)/ruff check src tests benchmarks examples

# The real-MLflow tests run against $(MLFLOW_PY): missing, they fail rather than skip.
test: venv chromium lint $(MLFLOW_STAMP)
	TRACKREPORT_TEST_MLFLOW_PYTHON=$(MLFLOW_PY) $(BIN)/python -m pytest -q -p no:cacheprovider

demo: venv
	rm -rf $(DEMO_STORE)
	$(BIN)/python examples/sweep.py --store $(DEMO_STORE)
	$(BIN)/trackreport runs --store $(DEMO_STORE) --sort '-metrics.val_roc_auc' \
	  --columns run_name,status,duration,params.model,params.learning_rate,params.max_depth,metrics.val_roc_auc,metrics.val_acc,metrics.val_logloss
	$(BIN)/trackreport build --store $(DEMO_STORE) --out site
	@echo "Open file://$(CURDIR)/site/index.html"


# The committed example: examples/trackruns (a store made by examples/sweep.py, made once)
# and site_example/ (the site built from it; tests/test_site_example.py rebuilds it).
example-store: venv
	rm -rf examples/trackruns
	$(BIN)/python examples/sweep.py --store examples/trackruns --quick

site-example: venv
	$(BIN)/trackreport build --store examples/trackruns --out site_example --title "trackreport example"

# Real MLflow in a throwaway venv (not a dependency), for tests/test_mlflow_server.py and
# the benchmarks, at the version the tests' expected files were recorded with.
$(MLFLOW_STAMP): benchmarks/_mlflow_venv.sh
	MLFLOW_SPEC='$(MLFLOW_SPEC)' sh benchmarks/_mlflow_venv.sh
	touch $(MLFLOW_STAMP)

mlflow-venv: $(MLFLOW_STAMP)

bench: venv
	$(BIN)/python benchmarks/bench_logging.py
	$(BIN)/python benchmarks/bench_build.py

clean:
	rm -rf $(VENV) $(DEMO_STORE) site dist build .pytest_cache .ruff_cache
