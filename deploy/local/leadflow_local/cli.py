"""The ``leadflow`` command: run the embedded stack, ensure topics, mint tokens, DLQ ops,
the demo."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import httpx
from leadflow_contracts import REGISTRY
from servicekit.auth import Role, mint_token
from servicekit.kafka import ensure_topics
from servicekit.settings import DEV_JWT_SECRET

from leadflow_local.demo import command as demo_command
from leadflow_local.demo import headed_command

if TYPE_CHECKING:
    from leadflow_local.stack import Stack


def _run(args: argparse.Namespace) -> int:
    # Imported here: the embedded broker and PostgreSQL are an optional extra, and the
    # other commands run without them (the CLI image of deploy/compose).
    from leadflow_local.stack import Stack

    stack = Stack(data_dir=Path(args.data_dir).resolve(), port_offset=args.port_offset)
    stop = threading.Event()

    def on_signal(signum: int, _: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(f"Starting Leadflow (services: {', '.join(stack.services) or 'none'}) …", flush=True)
    try:
        stack.start()
    except Exception as exc:
        print(f"leadflow run: could not start the stack: {exc}", file=sys.stderr)
        return 1
    prometheus = None
    if args.with_prometheus:
        from leadflow_local.prometheus import LocalPrometheus

        targets = {s.name: s.url for s in stack.running if s.name != "console"}
        try:
            prometheus = LocalPrometheus(targets, stack.data_dir / "prometheus").start()
        except Exception as exc:
            print(f"leadflow run: could not start Prometheus: {exc}", file=sys.stderr)
            stack.stop()
            return 1
    _print_table(stack)
    if prometheus is not None:
        print(f"Prometheus (alert rules of deploy/compose): {prometheus.url}/alerts", flush=True)
    supervisor = stack.supervise(lambda line: print(line, flush=True))
    stop.wait()
    print("\nStopping Leadflow …", flush=True)
    if prometheus is not None:
        prometheus.stop()
    stack.stop()
    if supervisor.restarts:
        counts = ", ".join(f"{name} {n}" for name, n in sorted(supervisor.restarts.items()))
        print(f"Restarts during this run: {counts}", flush=True)
    print("Stopped.", flush=True)
    return 0


def _print_table(stack: Stack) -> None:
    kafka = "embedded tansu" if stack.kafka else "external"
    pg = "embedded, data in " + str(stack.data_dir / "postgres") if stack.postgres else "external"
    rows = [("broker", stack.bootstrap_servers, kafka), ("postgres", stack.database_url, pg)]
    rows += [(s.name, s.url, f"logs: {s.log_path}") for s in stack.running]
    width = max(len(r[0]) for r in rows)
    print("\nLeadflow is up:")
    for name, url, note in rows:
        print(f"  {name:<{width}}  {url:<45} {note}")
    print("\nAPI docs: <service url>/docs   Health: /healthz /readyz   Metrics: /metrics")
    print("Admin token: uv run leadflow token --role admin --tenant '*'")
    print("A process that exits is restarted (see logs/launcher.log).")
    print("Press Ctrl-C to stop everything.", flush=True)


def _topics(args: argparse.Namespace) -> int:
    created = asyncio.run(
        ensure_topics(args.bootstrap, REGISTRY, replication_factor=args.replication_factor)
    )
    print(f"created {len(created)} topic(s): {', '.join(created) or '-'}")
    return 0


def _redrive(args: argparse.Namespace) -> int:
    """Ask every service to re-publish what it emitted since ``--since`` (dedupe makes it
    safe); prints each service's count. Exit 1 if any service could not."""
    token = mint_token(_jwt_secret(), sub="leadflow-redrive", role="admin", tenants=["*"])
    failed = 0
    for name, url in _service_urls(args):
        try:
            answer = httpx.post(
                f"{url}/v1/redrive",
                json={"since": args.since},
                headers={"Authorization": f"Bearer {token}"},
                timeout=args.timeout,
            )
        except httpx.HTTPError as exc:
            print(f"{name:<8} {url:<28} unreachable: {type(exc).__name__}")
            failed += 1
            continue
        if answer.status_code == 200:
            print(f"{name:<8} {url:<28} republished {answer.json()['republished']}")
        else:
            detail = answer.json().get("detail", answer.text) if answer.content else ""
            print(f"{name:<8} {url:<28} {answer.status_code}: {detail}")
            failed += 1
    return 1 if failed else 0


def _service_urls(args: argparse.Namespace) -> list[tuple[str, str]]:
    if args.url:
        return [(u.split("=", 1)[0], u.split("=", 1)[1]) for u in args.url]
    from leadflow_local.stack import SERVICE_PORTS  # the launcher's ports (embedded extra)

    return [
        (name, f"http://127.0.0.1:{port + args.port_offset}")
        for name, port in SERVICE_PORTS.items()
    ]


def _jwt_secret() -> str:
    secret = os.environ.get("LEADFLOW_ADMIN_JWT_SECRET")
    if not secret:
        print("note: LEADFLOW_ADMIN_JWT_SECRET is not set; using the dev secret", file=sys.stderr)
        secret = DEV_JWT_SECRET
    return secret


def _token(args: argparse.Namespace) -> int:
    print(
        mint_token(
            _jwt_secret(), sub=args.sub, role=args.role, tenants=args.tenant, ttl_s=args.ttl_seconds
        )
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leadflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the whole stack on embedded defaults")
    run.add_argument("--data-dir", default=".data", help="where embedded data and logs live")
    run.add_argument(
        "--port-offset",
        type=int,
        default=int(os.environ.get("LEADFLOW_PORT_OFFSET", "0")),
        help="added to every fixed port (to run a second stack beside the first)",
    )
    run.add_argument(
        "--with-prometheus",
        action="store_true",
        help="also run a local Prometheus (the prometheus binary) with the alert rules",
    )
    run.set_defaults(func=_run)

    topics = sub.add_parser("topics", help="topic administration")
    topics_sub = topics.add_subparsers(dest="topics_command", required=True)
    ensure = topics_sub.add_parser("ensure", help="create every registry topic that is missing")
    ensure.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    ensure.add_argument(
        "--replication-factor",
        type=int,
        default=1,
        help="replicas of each new topic (3 on a 3-broker cluster; existing topics are kept)",
    )
    ensure.set_defaults(func=_topics)

    redrive = sub.add_parser(
        "redrive", help="re-publish every retained event emitted since a time (all services)"
    )
    redrive.add_argument("--since", required=True, help="ISO 8601 time with offset")
    redrive.add_argument(
        "--url", action="append", help="NAME=URL of a service (repeatable; default: make run's)"
    )
    redrive.add_argument(
        "--port-offset", type=int, default=int(os.environ.get("LEADFLOW_PORT_OFFSET", "0"))
    )
    redrive.add_argument("--timeout", type=float, default=300.0)
    redrive.set_defaults(func=_redrive)

    token = sub.add_parser("token", help="mint an admin API token (HS256 JWT)")
    token.add_argument("--role", choices=[r.name for r in Role], default="admin")
    token.add_argument(
        "--tenant", action="append", default=None, help="tenant slug, or '*' (repeatable)"
    )
    token.add_argument("--sub", default="cli")
    token.add_argument("--ttl-seconds", type=int, default=12 * 3600)
    token.set_defaults(func=_token)

    demo_command.add_parser(sub)
    headed_command.add_parser(sub)

    try:
        dlq_cli = importlib.import_module("leadflow_dlq.cli")
    except ImportError:
        pass
    else:
        dlq_cli.register_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "tenant", None) is None and args.command == "token":
        args.tenant = ["*"]
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
