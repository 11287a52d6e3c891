# Leadflow — one tooling path for people and CI. Needs only Python >= 3.11 and make.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
MYPY_PACKAGES := -p leadflow_contracts -p servicekit -p leadflow_local \
	-p leadflow_ingest -p leadflow_scoring -p leadflow_router -p leadflow_audit -p leadflow_dlq

.PHONY: help uv sync run test test-unit lint fmt bench chaos chaos-short smoke contracts-check contracts-write topics

help:
	@echo "make run              install everything and start the whole stack (embedded defaults)"
	@echo "make test             every test tier against a real broker and PostgreSQL"
	@echo "make lint | fmt       ruff check + ruff format --check + mypy --strict | reformat"
	@echo "make smoke            start the stack, send one signed lead, print its timeline, stop"
	@echo "make bench            pipeline benchmark"
	@echo "make chaos            every fault scenario under load, a table of what was lost (~30 min)"
	@echo "make chaos-short      three fault scenarios as a test (~5 min)"
	@echo "make contracts-check  regenerate event schemas and diff against the snapshots"

uv:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)" \
		|| $(PYTHON) -m pip install --quiet --user --break-system-packages "uv==$(UV_VERSION)"

sync: uv
	@$(UV) sync --frozen --quiet

run: sync
	$(UV) run --frozen leadflow run

test: sync
	$(UV) run --frozen pytest

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy $(MYPY_PACKAGES)
	$(UV) run --frozen mypy bench tests/chaos

fmt: sync
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

bench: sync
	$(UV) run --frozen python -m bench.run

chaos: sync
	$(UV) run --frozen python -m tests.chaos.run

chaos-short: sync
	$(UV) run --frozen pytest tests/chaos/chaos_short.py

smoke: sync
	$(UV) run --frozen python -m leadflow_local.smoke

contracts-check: sync
	$(UV) run --frozen python -m leadflow_contracts.schemas check

contracts-write: sync
	$(UV) run --frozen python -m leadflow_contracts.schemas write

topics: sync
	$(UV) run --frozen leadflow topics ensure
