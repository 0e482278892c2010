# stockpilot's front door. `make demo` runs the main job; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
LOCK   := requirements.lock
WORKSPACE ?= demo-workspace

.PHONY: install install-dev demo test test-fast check lint bench browser lock clean kafka kafka-stop flink

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml $(LOCK)
	$(PIP) install -q -c $(LOCK) -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -q -c $(LOCK) -e '.[dev,spark,dask,deep,kafka]'
	touch $@

install: $(VENV)/.installed          ## runtime dependencies, pinned by requirements.lock
install-dev: $(VENV)/.installed-dev  ## plus test and lint tools, the spark and deep (torch CPU) extras: their tests run in CI

demo: install                        ## import the bundled sample, forecast, plan, simulate, serve
	$(BIN)/stockpilot demo --workspace $(WORKSPACE)

test: install-dev browser check      ## lint, types, import contracts, then the whole suite (CI runs this)
	$(BIN)/python -m pytest

test-fast: install-dev               ## skip tests marked slow or browser
	$(BIN)/python -m pytest -m "not slow and not browser"

browser:                             ## Debian's chromium (Playwright tests) and poppler-utils (PDF report test); root installs them
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	@command -v pdftoppm >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null)

kafka:                               ## a local Kafka broker on 127.0.0.1:9092 (idempotent; see scripts/kafka.sh)
	PYTHON=$(BIN)/python scripts/kafka.sh start

kafka-stop:                          ## stop the broker `make kafka` started
	scripts/kafka.sh stop

FLINK_VENV ?= .venv-flink
flink: $(FLINK_VENV)/.installed      ## PyFlink in its own venv (it pins old numpy/pandas/pyarrow)

$(FLINK_VENV)/.installed:
	$(PYTHON) -m venv $(FLINK_VENV)
	$(FLINK_VENV)/bin/python -m pip install -q 'apache-flink==2.3.0'
	touch $@


check: install-dev                   ## ruff, mypy over src (strict: pure packages, use cases), import contracts
	$(BIN)/ruff check .
	$(BIN)/mypy src
	$(BIN)/lint-imports

lint: check                          ## the same as check

bench: install-dev                   ## the heavy benchmarks (minutes each; see docs/benchmarks.md)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lock:                                ## re-pin every dependency from a clean resolve
	rm -rf /tmp/stockpilot-lock && $(PYTHON) -m venv /tmp/stockpilot-lock
	/tmp/stockpilot-lock/bin/python -m pip install -q --upgrade pip
	/tmp/stockpilot-lock/bin/python -m pip install -q '.[dev,spark,dask,deep,kafka]'
	/tmp/stockpilot-lock/bin/python -m pip freeze --exclude stockpilot | grep -v '^-e' > $(LOCK)

clean:
	rm -rf $(VENV) $(WORKSPACE) .pytest_cache .mypy_cache .ruff_cache
