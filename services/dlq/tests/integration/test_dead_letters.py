"""Capture, inspect, replay and discard against a real broker and PostgreSQL.

One service start covers the whole operator scenario (group joins are slow).
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from leadflow_contracts import REGISTRY
from leadflow_contracts import headers as h
from leadflow_contracts.topics import CONFIG_CHANGED, LEAD_QUALIFIED, LEAD_RECEIVED
from servicekit.errors import InvalidMessage
from servicekit.testing.helpers import TopicReader, eventually

NOT_UTF8 = b"\xff\xfe\x00garbage"


def headers_of(record: Any) -> dict[str, bytes]:
    return dict(record.headers)


async def test_poison_records_end_pending_and_operators_replay_or_discard_them(
    dlq: Any, unique: str
) -> None:
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

    expected = len(REGISTRY) + 2

    async def all_stored() -> list[dict[str, Any]]:
        items = await dlq.list(star, limit=100)
        return items if len(items) >= expected else []

    items = await eventually(all_stored, what="every dead letter stored")
    items = await dlq.list(star, limit=100)
    assert len(items) == expected, "the duplicate was stored once"
    assert {i["status"] for i in items} == {"pending"}

    # Context of a poison record.
    [qualified] = await dlq.list(star, topic=LEAD_QUALIFIED.name)
    assert qualified["original_topic"] == dlq.topic(LEAD_QUALIFIED)
    assert qualified["original_partition"] == 0
    assert qualified["original_offset"] == originals[LEAD_QUALIFIED.name].offset
    assert qualified["consumer_group"] == "grp"
    assert qualified["exception_class"] == "servicekit.errors.InvalidMessage"
    assert qualified["exception_message"] == f"bad {LEAD_QUALIFIED.name}"
    assert qualified["attempts"] == 1
    assert qualified["tenant_id"] == tenant
    value = orjson.loads(originals[LEAD_QUALIFIED.name].value)
    assert qualified["event_id"] == value["event_id"]
    assert qualified["first_failed_at"]
    assert qualified["last_failed_at"]

    # Non-envelope values are stored and shown; only '*' operators see them.
    [raw] = await dlq.list(star, error="boom")
    detail = (await dlq.http.get(f"/v1/dead-letters/{raw['id']}", headers=star)).json()
    assert detail["value"]["encoding"] == "base64"
    assert base64.b64decode(detail["value"]["data"]) == NOT_UTF8
    assert detail["value_problem"] == "the value is not UTF-8 text"
    assert detail["tenant_id"] is None
    assert detail["attempts"] == 5
    assert detail["exception_message"] == "boom\ufffd", "NUL cannot be stored; replaced"
    assert "ValueError: boom" in detail["stacktrace"]
    assert {"key": "x-nul", "value": "YQBi", "encoding": "base64"} in detail["headers"]
    [plain] = await dlq.list(star, error="not json")
    detail = (await dlq.http.get(f"/v1/dead-letters/{plain['id']}", headers=star)).json()
    assert detail["value"] == {
        "encoding": "utf-8",
        "data": "plain text, not JSON",
        "json": None,
        "size": 20,
    }
    assert detail["value_problem"].startswith("the value is not JSON")

    # Tenant scoping and roles.
    mine = await dlq.list(dlq.token([tenant]), limit=100)
    assert len(mine) == len(REGISTRY)
    assert await dlq.list(dlq.token([other])) == []
    unseen = await dlq.http.get(f"/v1/dead-letters/{raw['id']}", headers=dlq.token([tenant]))
    assert unseen.status_code == 404
    viewer = await dlq.http.get("/v1/dead-letters", headers=dlq.token([tenant], role="viewer"))
    assert viewer.status_code == 403
    other_replay = await dlq.http.post(
        f"/v1/dead-letters/{qualified['id']}:replay", headers=dlq.token([other])
    )
    assert other_replay.status_code == 404

    # Metrics: received by topic and exception class, pending depth.
    metrics = (await dlq.http.get("/metrics")).text
    assert (
        f'dlq_records_total{{exception_class="servicekit.errors.InvalidMessage",'
        f'original_topic="{LEAD_RECEIVED.name}"}} 2.0' in metrics
    )
    assert f'dlq_pending_records{{original_topic="{LEAD_QUALIFIED.name}"}} 1.0' in metrics

    # Replay twice: the original key, value and headers plus the replay marks.
    token = dlq.token([tenant], sub="alice")
    async with TopicReader(
        dlq.settings.kafka_bootstrap_servers, dlq.topic(LEAD_QUALIFIED), dlq.topic(CONFIG_CHANGED)
    ) as reader:
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
        original = originals[LEAD_QUALIFIED.name]
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

    # Bulk replay is bounded (server max 3) and reports how many.
    bulk = await dlq.http.post(
        "/v1/dead-letters:replay", headers=star, json={"status": "pending", "limit": 50}
    )
    assert bulk.status_code == 200, bulk.text
    assert bulk.json()["replayed"] == 3
    assert bulk.json()["more"] is True
    assert len(await dlq.list(star, status="replayed", limit=100)) == 3
    pending = await dlq.list(star, status="pending", limit=100)
    assert len(pending) == expected - 1 - 3
    metrics = (await dlq.http.get("/metrics")).text
    depth = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("dlq_pending_records{")
    )
    assert depth == len(pending)
