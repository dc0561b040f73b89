# Two commands a newcomer needs: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# One worker process, so the in-process live broker reaches every viewer; gevent, so the open
# projectors and phones (and half-sent requests) each cost a greenlet, never a thread the
# facilitator needs (gunicorn.conf.py: connections per worker, header timeout, open-file limit).
GUNICORN_ARGS ?= --worker-class gevent --workers 1 --timeout 120

.PHONY: run test test-postgres bench-national install install-test chromium lint format

$(BIN)/flask: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

install: $(BIN)/flask

install-test: install
	$(BIN)/pip install --quiet -e '.[test]'

run: install
	$(BIN)/flask --app app db upgrade
	@echo "Demo tambon loaded, plan id: $$($(BIN)/flask --app app demo)"
	@$(BIN)/flask --app app hall-info --port $(PORT)
	@# The jobs worker builds the big workbooks beside the server (planapp/jobs); it stops with it.
	$(BIN)/flask --app app jobs-worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	  $(BIN)/gunicorn $(GUNICORN_ARGS) --bind 0.0.0.0:$(PORT) app:app

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# pytest-xdist: the browser tests spend much of their time waiting on Chromium and gunicorn, so
# two workers keep both cores of a small machine busy. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist load

test: install-test chromium
	$(PYTEST) $(PYTEST_ARGS)

# The whole suite again on a throwaway PostgreSQL cluster (Debian's postgresql, loopback only).
test-postgres: install-test chromium
	.ci/with-postgres $(PYTEST) $(PYTEST_ARGS)

# The district and agency roll-ups on a national-shaped data set (bench/national.py), on a
# throwaway cluster as test-postgres uses. BENCH_ARGS="--scale 1" is the whole country.
BENCH_ARGS ?= --scale 0.05
bench-national: install
	.ci/with-postgres $(BIN)/python bench/national.py $(BENCH_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
