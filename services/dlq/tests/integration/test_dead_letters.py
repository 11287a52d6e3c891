"""Capture, inspect, replay and discard against a real broker and PostgreSQL.

Every test starts the service with the same poison records dead-lettered (``seeded``);
replay, discard and their audit records depend on each other, so they are one test.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from leadflow_contracts import REGISTRY
from leadflow_contracts import headers as h
from leadflow_contracts.topics import CONFIG_CHANGED, LEAD_QUALIFIED, LEAD_RECEIVED
from servicekit.errors import InvalidMessage
from servicekit.testing.helpers import TopicReader, eventually

NOT_UTF8 = b"\xff\xfe\x00garbage"
#: One poison per registry topic, the duplicate stored once, and two non-envelope values.
EXPECTED = len(REGISTRY) + 2


@dataclass
class Seeded:
    """The dead letters every test starts from and the ids a test needs to reach them."""

    tenant: str
    other: str
    star: dict[str, str]
    originals: dict[str, Any]
    items: list[dict[str, Any]]
    qualified: dict[str, Any]

    async def detail(self, dlq: Any, error: str) -> dict[str, Any]:
        [item] = await dlq.list(self.star, error=error)
        response = await dlq.http.get(f"/v1/dead-letters/{item['id']}", headers=self.star)
        assert response.status_code == 200, response.text
        detail: dict[str, Any] = response.json()
        return detail


@pytest.fixture
async def seeded(dlq: Any, unique: str) -> Seeded:
    tenant, other = f"acme-{unique}", f"other-{unique}"
    star = dlq.token(["*"])
    # One poison per consuming topic, each with the headers its producer wrote.
    originals = {}
    # lead.qualified's also has a binary header value and a repeated key: a replay must
    # carry them byte for byte, in order.
    foreign = [("x-bin", b"\xff\xfe\x00"), ("x-rep", b"1"), ("x-rep", b"2")]
    for offset, spec in enumerate(REGISTRY, start=10):
        record = dlq.failed_record(
            dlq.topic(spec),
            offset,
            f"key-{spec.name}".encode(),
            dlq.envelope_bytes(spec, tenant),
            dlq.original_headers(spec) + (foreign if spec is LEAD_QUALIFIED else []),
        )
        originals[spec.name] = record
        await dlq.dead_letter(record, InvalidMessage(f"bad {spec.name}"), group="grp")
    # The same failure dead-lettered twice (crash before the offset commit), then values
    # that are not envelopes at all. They share one DLQ partition, so once the last two
    # are stored the duplicate has been consumed too.
    received = originals[LEAD_RECEIVED.name]
    await dlq.dead_letter(received, InvalidMessage(f"bad {LEAD_RECEIVED.name}"), group="grp")
    not_utf8 = dlq.failed_record(
        dlq.topic(LEAD_RECEIVED), 90, None, NOT_UTF8, [("x-nul", b"a\x00b")]
    )
    await dlq.dead_letter(not_utf8, ValueError("boom\x00"), group="grp", attempts=5)
    text = dlq.failed_record(dlq.topic(LEAD_RECEIVED), 91, b"k", b"plain text, not JSON", [])
    await dlq.dead_letter(text, InvalidMessage("not json"), group="grp")

    async def all_stored() -> list[dict[str, Any]]:
        items = await dlq.list(star, limit=100)
        return items if len(items) >= EXPECTED else []

    await eventually(all_stored, what="every dead letter stored")
    items = await dlq.list(star, limit=100)
    [qualified] = await dlq.list(star, topic=LEAD_QUALIFIED.name)
    return Seeded(tenant, other, star, originals, items, qualified)


async def test_every_poison_is_stored_pending_and_a_duplicate_once(seeded: Seeded) -> None:
    assert len(seeded.items) == EXPECTED, "the duplicate was stored once"
    assert {i["status"] for i in seeded.items} == {"pending"}


async def test_a_dead_letter_keeps_the_context_of_its_poison_record(
    dlq: Any, seeded: Seeded
) -> None:
    qualified = seeded.qualified
    assert qualified["original_topic"] == dlq.topic(LEAD_QUALIFIED)
    assert qualified["original_partition"] == 0
    assert qualified["original_offset"] == seeded.originals[LEAD_QUALIFIED.name].offset
    assert qualified["consumer_group"] == "grp"
    assert qualified["exception_class"] == "servicekit.errors.InvalidMessage"
    assert qualified["exception_message"] == f"bad {LEAD_QUALIFIED.name}"
    assert qualified["attempts"] == 1
    assert qualified["tenant_id"] == seeded.tenant
    value = orjson.loads(seeded.originals[LEAD_QUALIFIED.name].value)
    assert qualified["event_id"] == value["event_id"]
    assert qualified["first_failed_at"]
    assert qualified["last_failed_at"]


async def test_a_value_that_is_not_utf8_is_shown_as_base64(dlq: Any, seeded: Seeded) -> None:
    detail = await seeded.detail(dlq, "boom")
    assert detail["value"]["encoding"] == "base64"
    assert base64.b64decode(detail["value"]["data"]) == NOT_UTF8
    assert detail["value_problem"] == "the value is not UTF-8 text"
    assert detail["tenant_id"] is None
    assert detail["attempts"] == 5
    assert detail["exception_message"] == "boom\ufffd", "NUL cannot be stored; replaced"
    assert "ValueError: boom" in detail["stacktrace"]
    assert {"key": "x-nul", "value": "YQBi", "encoding": "base64"} in detail["headers"]


async def test_a_value_that_is_not_json_is_shown_as_text(dlq: Any, seeded: Seeded) -> None:
    detail = await seeded.detail(dlq, "not json")
    assert detail["value"] == {
        "encoding": "utf-8",
        "data": "plain text, not JSON",
        "json": None,
        "size": 20,
    }
    assert detail["value_problem"].startswith("the value is not JSON")


async def test_operators_see_only_their_tenants_dead_letters(dlq: Any, seeded: Seeded) -> None:
    mine = await dlq.list(dlq.token([seeded.tenant]), limit=100)
    assert len(mine) == len(REGISTRY)
    assert await dlq.list(dlq.token([seeded.other])) == []
    # A value with no tenant (not an envelope) is for '*' operators only.
    [raw] = await dlq.list(seeded.star, error="boom")
    unseen = await dlq.http.get(f"/v1/dead-letters/{raw['id']}", headers=dlq.token([seeded.tenant]))
    assert unseen.status_code == 404
    other_replay = await dlq.http.post(
        f"/v1/dead-letters/{seeded.qualified['id']}:replay", headers=dlq.token([seeded.other])
    )
    assert other_replay.status_code == 404


async def test_a_viewer_may_not_list_dead_letters(dlq: Any, seeded: Seeded) -> None:
    viewer = await dlq.http.get(
        "/v1/dead-letters", headers=dlq.token([seeded.tenant], role="viewer")
    )
    assert viewer.status_code == 403


async def test_metrics_count_records_by_topic_and_exception_and_pending_depth(
    dlq: Any, seeded: Seeded
) -> None:
    metrics = (await dlq.http.get("/metrics")).text
    assert (
        f'dlq_records_total{{exception_class="servicekit.errors.InvalidMessage",'
        f'original_topic="{LEAD_RECEIVED.name}"}} 2.0' in metrics
    )
    assert f'dlq_pending_records{{original_topic="{LEAD_QUALIFIED.name}"}} 1.0' in metrics


async def test_replays_carry_the_original_then_discard_is_final_and_all_is_audited(
    dlq: Any, seeded: Seeded
) -> None:
    qualified = seeded.qualified
    token = dlq.token([seeded.tenant], sub="alice")
    async with TopicReader(
        dlq.settings.kafka_bootstrap_servers, dlq.topic(LEAD_QUALIFIED), dlq.topic(CONFIG_CHANGED)
    ) as reader:
        # Replay twice: the original key, value and headers plus the replay marks.
        for count in (1, 2):
            replay = await dlq.http.post(
                f"/v1/dead-letters/{qualified['id']}:replay", headers=token
            )
            assert replay.status_code == 200, replay.text
            assert replay.json()["status"] == "replayed"
            assert replay.json()["replay_count"] == count
        await reader.wait_for(
            lambda rs: sum(r.topic == dlq.topic(LEAD_QUALIFIED) for r in rs) == 2,
            what="two replays",
        )
        original = seeded.originals[LEAD_QUALIFIED.name]
        replays = [r for r in reader.records if r.topic == dlq.topic(LEAD_QUALIFIED)]
        for count, record in enumerate(replays, start=1):
            assert record.key == original.key
            assert record.value == original.value
            [parent] = [v for k, v in record.headers if k == "traceparent"]
            assert parent.decode().split("-")[1] == dlq.trace_id
            got = [(k, v) for k, v in record.headers if k != "traceparent"]
            want = [(k, v) for k, v in original.headers if k != "traceparent"]
            assert got == [
                *want,
                (h.REPLAY_OF, qualified["id"].encode()),
                (h.REPLAY_COUNT, str(count).encode()),
            ]

        # Discard needs a reason; discarded records are final.
        url = f"/v1/dead-letters/{qualified['id']}:discard"
        assert (await dlq.http.post(url, headers=token)).status_code == 422
        blank = await dlq.http.post(url, headers=token, json={"reason": "   "})
        assert blank.status_code == 422
        discard = await dlq.http.post(url, headers=token, json={"reason": "fixed upstream"})
        assert discard.status_code == 200, discard.text
        body = discard.json()
        assert body["status"] == "discarded"
        assert [(e["action"], e["actor"], e["reason"]) for e in body["history"]] == [
            ("received", "dlq", None),
            ("replayed", "alice", None),
            ("replayed", "alice", None),
            ("discarded", "alice", "fixed upstream"),
        ]
        again = await dlq.http.post(f"/v1/dead-letters/{qualified['id']}:replay", headers=token)
        assert again.status_code == 409

        # Every operator action is in the audit record.
        def changes(records: list[Any]) -> list[dict[str, Any]]:
            topic = dlq.topic(CONFIG_CHANGED)
            return [orjson.loads(r.value)["payload"] for r in records if r.topic == topic]

        await reader.wait_for(lambda rs: len(changes(rs)) == 3, what="config.changed x3")
        audited = changes(reader.records)
        assert [(c["entity"], c["actor"], c["after"]["status"]) for c in audited] == [
            ("dead_letter", "alice", "replayed"),
            ("dead_letter", "alice", "replayed"),
            ("dead_letter", "alice", "discarded"),
        ]
        assert {c["entity_id"] for c in audited} == {qualified["id"]}
        assert audited[-1]["after"]["reason"] == "fixed upstream"


async def test_bulk_replay_is_bounded_and_reports_how_many(dlq: Any, seeded: Seeded) -> None:
    # The server's maximum is 3 (the dlq settings fixture).
    bulk = await dlq.http.post(
        "/v1/dead-letters:replay", headers=seeded.star, json={"status": "pending", "limit": 50}
    )
    assert bulk.status_code == 200, bulk.text
    assert bulk.json()["replayed"] == 3
    assert bulk.json()["more"] is True
    assert len(await dlq.list(seeded.star, status="replayed", limit=100)) == 3
    pending = await dlq.list(seeded.star, status="pending", limit=100)
    assert len(pending) == EXPECTED - 3
    metrics = (await dlq.http.get("/metrics")).text
    depth = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("dlq_pending_records{")
    )
    assert depth == len(pending)
