"""``leadflow dlq list|show|replay|discard``: the operator's command line over the dlq API.

Talks HTTP to a running dlq service (``--url``, env ``LEADFLOW_DLQ_URL``, default
``http://127.0.0.1:8005``) with an operator token (``--token``, env ``LEADFLOW_TOKEN``;
mint one with ``leadflow token --role operator --tenant <slug>``). Exit codes: 0 done,
1 the API refused (the problem's title and detail are printed), 2 the service could not
be reached.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

import httpx
import orjson
from pydantic_settings import BaseSettings, SettingsConfigDict

from leadflow_dlq.cli_format import print_bulk, print_detail, print_table


class CliSettings(BaseSettings):
    """Read when a command runs (never at import)."""

    model_config = SettingsConfigDict(env_prefix="LEADFLOW_", extra="ignore")

    dlq_url: str = "http://127.0.0.1:8005"
    token: str | None = None


Command = Callable[[argparse.Namespace, httpx.Client], int]


class ApiRefused(Exception):
    def __init__(self, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        title = body.get("title") or response.reason_phrase
        detail = body.get("detail") or ""
        errors = "; ".join(f"{e['field']}: {e['message']}" for e in body.get("errors", []))
        super().__init__(
            f"{response.status_code} {title}. {detail} {errors}".strip().replace(" .", ".")
        )


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    response = client.request(method, path, **kwargs)
    if response.is_error:
        raise ApiRefused(response)
    return response.json()


def _list(args: argparse.Namespace, client: httpx.Client) -> int:
    params = {
        k: v
        for k, v in {
            "topic": args.topic,
            "status": args.status,
            "tenant": args.tenant,
            "error": args.error,
            "limit": args.limit,
            "after": args.after,
        }.items()
        if v is not None
    }
    page = _call(client, "GET", "/v1/dead-letters", params=params)
    if args.json:
        _print_json(page)
    else:
        print_table(page["items"], page.get("next"))
    return 0


def _show(args: argparse.Namespace, client: httpx.Client) -> int:
    record = _call(client, "GET", f"/v1/dead-letters/{args.id}")
    _print_json(record) if args.json else print_detail(record)
    return 0


def _replay(args: argparse.Namespace, client: httpx.Client) -> int:
    if args.id:
        record = _call(client, "POST", f"/v1/dead-letters/{args.id}:replay")
        if args.json:
            _print_json(record)
        else:
            print(
                f"replayed {record['id']} to {record['original_topic']} "
                f"(replay #{record['replay_count']})"
            )
        return 0
    body = {
        k: v
        for k, v in {
            "topic": args.topic,
            "status": args.status,
            "tenant": args.tenant,
            "error": args.error,
            "limit": args.limit,
        }.items()
        if v is not None
    }
    result = _call(client, "POST", "/v1/dead-letters:replay", json=body)
    _print_json(result) if args.json else print_bulk(result)
    return 0


def _discard(args: argparse.Namespace, client: httpx.Client) -> int:
    body = {"reason": args.reason}
    record = _call(client, "POST", f"/v1/dead-letters/{args.id}:discard", json=body)
    if args.json:
        _print_json(record)
    else:
        print(f"discarded {record['id']}: {args.reason}")
    return 0


def _print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")


def run(command: Command, args: argparse.Namespace, client: httpx.Client | None = None) -> int:
    """Run ``command`` with ``client`` (tests) or one built from flags and environment."""
    if client is None:
        env = CliSettings()
        token = args.token or env.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with httpx.Client(base_url=args.url or env.dlq_url, headers=headers, timeout=30) as c:
            return run(command, args, c)
    try:
        return command(args, client)
    except ApiRefused as exc:
        print(f"leadflow dlq: {exc}", file=sys.stderr)
        return 1
    except httpx.TransportError as exc:
        print(
            f"leadflow dlq: cannot reach the dlq service at {client.base_url}: {exc}",
            file=sys.stderr,
        )
        return 2


def _filters(parser: argparse.ArgumentParser, *, statuses: list[str]) -> None:
    parser.add_argument("--topic", help="original topic, e.g. lead.qualified")
    parser.add_argument("--status", choices=statuses)
    parser.add_argument("--tenant", help="tenant slug")
    parser.add_argument("--error", help="substring of the exception class or message")
    parser.add_argument("--limit", type=int, help="at most this many records")


def register_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dlq list|show|replay|discard`` to the top-level ``leadflow`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="dlq service URL (env LEADFLOW_DLQ_URL)")
    common.add_argument("--token", help="operator JWT (env LEADFLOW_TOKEN)")
    common.add_argument("--json", action="store_true", help="print the API's JSON")

    dlq = subparsers.add_parser("dlq", help="inspect, replay and discard dead letters")
    commands = dlq.add_subparsers(dest="dlq_command", required=True)

    def add(name: str, command: Command, help_: str) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, parents=[common], help=help_, description=help_)
        parser.set_defaults(func=lambda args: run(command, args))
        return parser

    listing = add("list", _list, "list dead letters, oldest first")
    _filters(listing, statuses=["pending", "replayed", "discarded"])
    listing.add_argument("--after", help="id of the last record of the previous page")

    add("show", _show, "show one dead letter: context, key, value, headers, history").add_argument(
        "id"
    )

    replay = add(
        "replay",
        _replay,
        "replay one dead letter by id, or every match of the filters (--all, bounded)",
    )
    target = replay.add_mutually_exclusive_group(required=True)
    target.add_argument("id", nargs="?", help="the dead letter to replay")
    target.add_argument("--all", action="store_true", help="replay the records that match")
    _filters(replay, statuses=["pending", "replayed"])

    discard = add("discard", _discard, "discard a dead letter (a reason is required)")
    discard.add_argument("id")
    discard.add_argument("--reason", required=True, help="why it must not be processed")
