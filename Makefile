# lawline — two commands: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test venv lint bench bench-long chaos fuzz clean

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m scripts.devstack

# The browser tests drive Debian's chromium (never `playwright install`); a CJK font makes screenshots legible.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update && apt-get install -y chromium fonts-wqy-microhei; \
	else echo "browser tests need $(CHROMIUM): sudo apt-get install -y chromium fonts-wqy-microhei"; fi

test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# CI runs this before the tests (.ci/run): style, formatting and types on every package we ship.
lint: $(STAMP)
	$(BIN)/ruff check libs services tests scripts bench
	$(BIN)/ruff format --check libs services tests scripts bench
	$(BIN)/mypy libs services

bench: $(STAMP)
	$(BIN)/python -m bench.run --short

bench-long: $(STAMP)
	$(BIN)/python -m bench.run --long

# Delivery under faults, full size: 1,000 orders per fault into bench/results/chaos.* and README.
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos

# Schemathesis on every service, 200 examples per operation (make test runs 5).
fuzz: $(STAMP)
	LAWLINE_FUZZ_EXAMPLES=200 $(BIN)/python -m pytest -q -p no:cacheprovider tests/contract --timeout 3600

clean:
	rm -rf var/* .pytest_cache
