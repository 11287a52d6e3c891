"""The ``leadflow`` command: run the embedded stack, ensure topics, mint tokens, DLQ ops."""

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

from leadflow_contracts import REGISTRY
from servicekit.auth import Role, mint_token
from servicekit.kafka import ensure_topics
from servicekit.settings import DEV_JWT_SECRET

from leadflow_local.stack import Stack


def _run(args: argparse.Namespace) -> int:
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
    _print_table(stack)
    supervisor = stack.supervise(lambda line: print(line, flush=True))
    stop.wait()
    print("\nStopping Leadflow …", flush=True)
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
    created = asyncio.run(ensure_topics(args.bootstrap, REGISTRY))
    print(f"created {len(created)} topic(s): {', '.join(created) or '-'}")
    return 0


def _token(args: argparse.Namespace) -> int:
    secret = os.environ.get("LEADFLOW_ADMIN_JWT_SECRET")
    if not secret:
        print("note: LEADFLOW_ADMIN_JWT_SECRET is not set; using the dev secret", file=sys.stderr)
        secret = DEV_JWT_SECRET
    print(
        mint_token(
            secret, sub=args.sub, role=args.role, tenants=args.tenant, ttl_s=args.ttl_seconds
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
    run.set_defaults(func=_run)

    topics = sub.add_parser("topics", help="topic administration")
    topics_sub = topics.add_subparsers(dest="topics_command", required=True)
    ensure = topics_sub.add_parser("ensure", help="create every registry topic that is missing")
    ensure.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    ensure.set_defaults(func=_topics)

    token = sub.add_parser("token", help="mint an admin API token (HS256 JWT)")
    token.add_argument("--role", choices=[r.name for r in Role], default="admin")
    token.add_argument(
        "--tenant", action="append", default=None, help="tenant slug, or '*' (repeatable)"
    )
    token.add_argument("--sub", default="cli")
    token.add_argument("--ttl-seconds", type=int, default=12 * 3600)
    token.set_defaults(func=_token)

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
