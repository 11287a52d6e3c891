"""The journey suite's world: the whole stack as separate processes, black-box access only.

This package holds what the fixtures of ``tests/e2e/conftest.py`` hand out: the
deployment (``deployment``), the span receiver (``spans``), signing (``signing``), the
API client (``api_client``), the bus reader (``bus``), audit timelines (``audit``) and the
unloadable rule set of the poison journey (``poison``).

Two modes:

* **Local (default)** — one session-scoped stack started with the same launcher as
  ``make run`` (``leadflow_local.stack.Stack``) on a free port offset, with an OTLP/HTTP
  trace receiver of our own (``SpanCollector``) as ``OTEL_EXPORTER_OTLP_ENDPOINT``.
  ``KAFKA_BOOTSTRAP_SERVERS`` / ``DATABASE_URL`` are passed through when set, else the
  embedded broker and PostgreSQL are used.
* **Live** — ``LEADFLOW_E2E_BASE_URLS=ingest=http://…,scoring=…,router=…,audit=…,dlq=…``
  (or one ``LEADFLOW_E2E_<SERVICE>_URL`` each), ``LEADFLOW_E2E_JWT_SECRET`` and
  ``LEADFLOW_E2E_KAFKA`` (bootstrap servers) drive an already-running deployment.
  Optional: ``LEADFLOW_E2E_DATABASE_URL`` (server URL, for the journey that must break a
  rule set below the API), ``LEADFLOW_E2E_LOG_DIR`` (``<service>.log`` files of a
  deployment started with ``LEADFLOW_LOG_LEVEL=DEBUG``: the per-record lines journey 10
  looks for are debug-level, so they stay off the hot path at INFO),
  ``LEADFLOW_E2E_OTLP_PORT`` (start the span receiver there; point the deployment's
  exporter at it). What a live run cannot observe is skipped with the reason.

Every test provisions its own uniquely named tenant (``provision``) and creates nothing
else globally, so the suite passes any number of times against the same stack. Every
request shape of the services' public APIs is built in ``api_client.Api`` — one place to adapt
when a service's API settles.
"""
