# Nightly foot-care reminders: developer entry points. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# `make run PORT=8080` when 8000 is taken; `make run VERBOSE=1` shows every line of Celery's.
PORT ?= 8000
VERBOSE ?=

# Test processes (pytest-xdist). Most of a fault scenario is waiting on workers, brokers and
# deadlines, so more processes than cores pay off: 4 on a 2-core machine.
TEST_JOBS ?= 4

.PHONY: help bootstrap run test check lint mutants bench stack-test clean distclean redis-stop

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

bootstrap: ## create .venv/ and install the project (only when pyproject.toml changed)
	@scripts/bootstrap.sh

run: bootstrap ## web + worker + beat (console backends) and a demo reminder in ~1 minute; PORT=8000
	@url="$$(scripts/ensure_redis.sh)"; \
	scripts/ensure_redis.sh --remember "$$url"; \
	echo "Using REDIS_URL=$$url (saved in $${STATE_DIR:-var}/redis.url for other reminders commands)"; \
	REDIS_URL="$$url" exec $(BIN)/reminders run --port "$(PORT)" $(if $(VERBOSE),--verbose)

test: bootstrap ## lint, then the whole test suite against a real (private) Redis, RabbitMQ and chromium
	@scripts/ensure_redis.sh --installed
	@scripts/ensure_rabbitmq.sh --installed
	@scripts/ensure_chromium.sh
	@scripts/ensure_pdf_tools.sh
	@$(MAKE) --no-print-directory lint
	$(BIN)/pytest -q -n $(TEST_JOBS) --dist worksteal

check: bootstrap ## the inner loop: lint, then every test that needs no worker, broker or browser (year sweeps: every 5th evening)
	@scripts/ensure_redis.sh --installed
	@$(MAKE) --no-print-directory lint
	REMINDERS_QUICK=1 $(BIN)/pytest -q -n $(TEST_JOBS) --dist worksteal -m "not slow"

lint: bootstrap ## ruff, mypy and the import contracts (layers point down only)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

mutants: bootstrap ## mutation spot-checks (scripts/mutants.toml): each one-line bug must fail a test
	@scripts/ensure_redis.sh --installed
	@scripts/mutants.sh

bench: bootstrap ## the benchmarks on a private redis-server: a table and BENCHMARKS.md
	@scripts/ensure_redis.sh --installed
	$(BIN)/python -m benchmarks

stack-test: ## build the images, run docker-compose.yml for real and check it (root or docker; ~7 min, images cached)
	@compose="$$(scripts/ensure_docker.sh --start)"; status=0; \
	{ scripts/stack_images.sh var/stack/images.env \
	  && python3 tests/stack/run_stack.py "$$compose" var/stack/images.env $(STACK_PHASES); } \
	  || status=$$?; \
	scripts/ensure_docker.sh --stop; exit $$status

redis-stop: ## stop the private redis-server that `make run` may have started (data is kept)
	@scripts/ensure_redis.sh --stop

clean: ## remove caches, build leftovers, the outbox and the beat schedule (keeps .venv and Redis data)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist *.egg-info
	rm -rf var/outbox var/celerybeat-schedule*
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: redis-stop clean ## clean, and also remove .venv/ and var/ (the private Redis data too)
	rm -rf $(VENV) var
