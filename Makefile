# lawline — two commands: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every package and its hashes, for Python 3.11 (runtime + every extra); requirements.lock is
# the runtime subset the image installs. Both are written by `make lock`, never by hand.
LOCK := requirements-dev.lock
UV_VERSION := 0.13.9

.PHONY: run test venv lint lock bench bench-long chaos fuzz classifier clean

# Installs exactly the lock (pip refuses any file whose hash is not in it), then lawline itself
# without resolving anything. A dependency added to pyproject.toml without `make lock` is not
# installed: tests/unit/test_lock.py fails, saying so.
$(STAMP): pyproject.toml $(LOCK)
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)

# Refresh both lock files from pyproject.toml, then install them. Versions already locked stay
# (a new dependency brings only what it needs); `make lock UPGRADE=1` takes the newest versions
# pyproject.toml's ranges allow. requirements.lock is resolved within requirements-dev.lock, so
# the image runs the versions the tests ran. tests/unit/test_lock.py runs these same commands.
# The dev lock has every extra; the image's has the deployment options (every extra but dev).
RUNTIME_EXTRAS := s3 tracing build
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' -q
lock:
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/pip install -q 'uv==$(UV_VERSION)'
	$(UV_COMPILE) --all-extras $(if $(UPGRADE),--upgrade) -o requirements-dev.lock
	$(UV_COMPILE) $(RUNTIME_EXTRAS:%=--extra %) -c requirements-dev.lock -o requirements.lock
	$(MAKE) venv

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

# Intake's classifier (#19): the corpus's variants, model.bin.gz and REPORT.md, from the corpus.
classifier: $(STAMP)
	$(BIN)/python -m services.intake.classifier.augment
	$(BIN)/python -m services.intake.classifier.train

clean:
	rm -rf var/* .pytest_cache
