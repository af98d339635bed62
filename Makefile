# Everything is built from scratch in .venv; `make test` is what CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_STORE := demo-store

.PHONY: venv chromium test lint demo bench site-example clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,examples]'
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

test: venv chromium lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

demo: venv
	rm -rf $(DEMO_STORE)
	$(BIN)/python examples/sweep.py --store $(DEMO_STORE)
	$(BIN)/trackreport runs --store $(DEMO_STORE)
	@if $(BIN)/trackreport build --help >/dev/null 2>&1; then \
	  $(BIN)/trackreport build --store $(DEMO_STORE) --out site && \
	  echo "Open file://$(CURDIR)/site/index.html"; fi

bench: venv
	$(BIN)/python benchmarks/bench_logging.py

clean:
	rm -rf $(VENV) $(DEMO_STORE) site dist build .pytest_cache .ruff_cache
