"""The faults, each injected into a running embedded stack under load.

A fault is a coroutine that starts the fault and returns the moment it is lifted (for a
kill that is the kill itself: bringing the process back is the launcher's job, not the
runner's). Seconds to recover are counted from that moment.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from leadflow_local.stack import Stack
from leadflow_local.supervise import POSTGRES

from tests.chaos.sender import SendLog

Fault = Callable[[Stack, SendLog], Awaitable[None]]


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: Fault
    #: How long the fault lasts once injected (the load goes on past it).
    outage_s: float = 0.0
    replicas: dict[str, int] = field(default_factory=dict)


def _pid(stack: Stack, name: str) -> int:
    return next(s.process.pid for s in stack.running if s.name == name)


def kill(*names: str, mid_request: bool = False) -> Fault:
    async def fault(stack: Stack, sent: SendLog) -> None:
        if mid_request:  # a webhook is in flight when the process dies
            await asyncio.wait_for(sent.busy.wait(), timeout=10)
        for name in names:
            os.kill(_pid(stack, name), signal.SIGKILL)

    return fault


def postgres_restart(mode: str, down_s: float) -> Fault:
    """``pg_ctl stop -m <mode>``, ``down_s`` without a database, then start it again."""

    async def fault(stack: Stack, _: SendLog) -> None:
        assert stack.postgres is not None
        assert stack.supervisor is not None
        with stack.supervisor.hands_off(POSTGRES):
            await asyncio.to_thread(stack.postgres.shutdown, mode)
            await asyncio.sleep(down_s)
            await asyncio.to_thread(stack.restart_postgres)

    return fault


def broker_pause(seconds: float) -> Fault:
    async def fault(stack: Stack, _: SendLog) -> None:
        assert stack.kafka is not None
        assert stack.kafka.pid is not None
        pid = stack.kafka.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(seconds)
        finally:
            os.kill(pid, signal.SIGCONT)

    return fault


async def broker_kill(stack: Stack, _: SendLog) -> None:
    assert stack.kafka is not None
    assert stack.kafka.pid is not None
    os.kill(stack.kafka.pid, signal.SIGKILL)


SCENARIOS: list[Scenario] = [
    Scenario("kill -9 ingest (mid-request)", kill("ingest", mid_request=True)),
    Scenario("kill -9 scoring", kill("scoring")),
    Scenario("kill -9 router", kill("router")),
    Scenario("kill -9 audit", kill("audit")),
    Scenario("kill -9 dlq", kill("dlq")),
    Scenario("postgres fast restart, 10 s down", postgres_restart("fast", 10), 10),
    Scenario("postgres immediate restart, 10 s down", postgres_restart("immediate", 10), 10),
    Scenario("postgres fast restart, 60 s down", postgres_restart("fast", 60), 60),
    Scenario("postgres immediate restart, 60 s down", postgres_restart("immediate", 60), 60),
    Scenario("broker paused 10 s (SIGSTOP)", broker_pause(10), 10),
    Scenario("broker kill -9 + restart", broker_kill),
    Scenario(
        "2 replicas of scoring and router, one of each killed",
        kill("scoring-2", "router"),
        replicas={"scoring": 2, "router": 2},
    ),
]
