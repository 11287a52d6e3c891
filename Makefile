# Leadflow — one tooling path for people and CI. Needs only Python >= 3.11 and make.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
MYPY_PACKAGES := -p leadflow_contracts -p servicekit -p leadflow_local \
	-p leadflow_ingest -p leadflow_scoring -p leadflow_router -p leadflow_audit -p leadflow_dlq \
	-p leadflow_console

.PHONY: help uv sync tools chromium run test test-unit test-compose lint fmt bench fuzz chaos \
	chaos-short smoke demo demo-headed proof contracts-check contracts-write topics

help:
	@echo "make run              install everything and start the whole stack (embedded defaults)"
	@echo "make test             every test tier against a real broker and PostgreSQL"
	@echo "make test-unit        the unit tests only (no I/O, seconds)"
	@echo "make lint | fmt       ruff check + ruff format --check + mypy --strict | reformat"
	@echo "make proof            journeys 1-10 with their evidence (.data/proof/<time>/report.md)"
	@echo "make smoke            start the stack, send one signed lead, print its timeline, stop"
	@echo "make demo             against make run's stack: 2 tenants, 10 leads told as a story, a table"
	@echo "make demo-headed      the same story walked in the console: video + screenshots in .data/demo/<time>/"
	@echo "make bench            pipeline benchmark"
	@echo "make fuzz             schemathesis against every service (FUZZ_SECONDS per service)"
	@echo "make chaos            every fault scenario under load, a table of what was lost (~30 min)"
	@echo "make chaos-short      three fault scenarios as a test (~5 min)"
	@echo "make contracts-check  regenerate event schemas and diff against the snapshots"

uv:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)" \
		|| $(PYTHON) -m pip install --quiet --user --break-system-packages "uv==$(UV_VERSION)"

sync: uv
	@$(UV) sync --frozen --quiet

# promtool (Debian package prometheus) checks and unit-tests the alert rules in `make test`.
# Installed here when missing and allowed (root with apt-get, as in CI); otherwise those
# tests skip locally and fail in CI.
tools:
	@command -v promtool >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && apt-get install -y -qq prometheus >/dev/null; } \
		|| echo "note: promtool is missing (apt-get install prometheus): the alert-rule tests will skip"

run: sync
	$(UV) run --frozen leadflow run

# The console's browser journeys drive Debian's Chromium (Playwright brings only its driver);
# the demo walk's video is encoded by Debian's ffmpeg.
chromium:
	@{ command -v chromium && command -v ffmpeg; } >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ffmpeg; \
		else \
			echo "make: the browser tests need Chromium and ffmpeg: sudo apt-get install -y chromium ffmpeg" >&2; \
		fi; }

test: sync tools chromium
	$(UV) run --frozen pytest

# Every unit test (services/*/tests/unit, servicekit's, the launcher's, the contract tests):
# no broker, no database, no processes; the servicekit plugin refuses a unit test that
# asks for either.
UNIT_TESTS := $(wildcard services/*/tests/unit libs/*/tests/unit deploy/*/tests/unit) tests/contract
test-unit: sync
	$(UV) run --frozen pytest -q -p no:cacheprovider $(UNIT_TESTS)

# The journeys against the production-shaped stack (deploy/compose) in containers, and the
# servicekit tests on testcontainers' broker and PostgreSQL. Needs a Docker engine; without
# one the tests say so and skip.
test-compose: sync
	env -u KAFKA_BOOTSTRAP_SERVERS -u DATABASE_URL LEADFLOW_TEST_COMPOSE=1 \
		$(UV) run --frozen pytest -rs deploy/compose/tests/test_containerized.py libs/servicekit/tests

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy $(MYPY_PACKAGES)
	$(UV) run --frozen mypy bench fuzz tests/chaos

fmt: sync
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

bench: sync
	$(UV) run --frozen python -m bench.run

# make test runs a short version (tests/hostile/test_fuzz.py); this one runs longer.
FUZZ_SECONDS ?= 60
FUZZ_EXAMPLES ?= 25
fuzz: sync
	$(UV) run --frozen python -W ignore -m fuzz.run --seconds $(FUZZ_SECONDS) --examples $(FUZZ_EXAMPLES)

chaos: sync
	$(UV) run --frozen python -m tests.chaos.run

chaos-short: sync
	$(UV) run --frozen pytest tests/chaos/chaos_short.py

# The journeys again, keeping the evidence: JUnit XML and a report under .data/proof/<time>/.
# With LEADFLOW_E2E_* set (see tests/e2e/support) against that live deployment instead.
proof: sync
	$(UV) run --frozen python -m tests.e2e.proof

smoke: sync
	$(UV) run --frozen python -m leadflow_local.smoke

# The story of issue 19 against the running `make run` stack (starts an embedded one when
# nothing answers); idempotent. DEMO_ARGS e.g. --port-offset 100 --database-url ...
demo: sync
	$(UV) run --frozen leadflow demo $(DEMO_ARGS)

# The story walked through the console in Chromium, with captions, recorded under
# .data/demo/<UTC time>/ (walk.webm, one PNG per step, steps.json). Headed when DISPLAY
# is set; else under xvfb-run when it exists (headed on a virtual screen); else headless.
demo-headed: sync chromium
	@if [ -z "$$DISPLAY" ] && command -v xvfb-run >/dev/null; then \
	  xvfb-run -a -s "-screen 0 1280x800x24" $(UV) run --frozen leadflow demo-headed $(DEMO_ARGS); \
	else $(UV) run --frozen leadflow demo-headed $(DEMO_ARGS); fi

contracts-check: sync
	$(UV) run --frozen python -m leadflow_contracts.schemas check
	$(UV) run --frozen python -m leadflow_contracts.asyncapi check docs/asyncapi

contracts-write: sync
	$(UV) run --frozen python -m leadflow_contracts.schemas write
	$(UV) run --frozen python -m leadflow_contracts.asyncapi write docs/asyncapi

topics: sync
	$(UV) run --frozen leadflow topics ensure
