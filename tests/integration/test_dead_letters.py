"""Dead letters, end to end in a real service process (create_service_app: watch, relay,
consumer, admin endpoints) on real PostgreSQL and a broker of this module's own: a poison
event is kept in the service's database and copied to the dead-letter topic, listed for
admins only, replayed through the outbox (exactly one effect, however often it is replayed),
counted again on the same row when it fails again, discarded only with a note (audited), and
the CLI sees and replays the same rows. A failure of the infrastructure is never a poison:
retried for as long as it takes, the partition's later records waiting behind it."""

from __future__ import annotations

import asyncio
import errno
import json
import tempfile
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from libs.common import deadletters
from libs.common.app import ServiceSpec, create_service_app
from libs.common.config import CommonSettings
from libs.common.events import intake as ev
from libs.common.events.topics import DEAD_LETTER, WORKORDER, topic
from libs.common.handlers import Handlers
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, serve, wait_for
from services.intake.models import inbox, outbox
from tests.integration.pipeline_helpers import (
    CHECK_SECONDS,
    PrivateBroker,
    ce_ids,
    closed_event,
    effects,
    enqueue_events,
    make_effects_table,
    read_topic,
)

ADMIN = auth("admin")
COUNTY = "140403"  # every event of this module has this key: one partition, one order


class Handler:
    """The consuming service's handler: records its effect; `poison` labels fail as a bug
    would, `flaky` labels fail as the infrastructure does for their first calls."""

    def __init__(self) -> None:
        self.poison: set[str] = set()
        self.flaky: dict[str, list[BaseException]] = {}
        self.calls: Counter[str] = Counter()

    async def __call__(self, session, event) -> None:  # type: ignore[no-untyped-def]
        label = event.data["number"]
        self.calls[label] += 1
        if label in self.poison:
            raise ValueError(f"{label} cannot be handled")
        if self.flaky.get(label):
            raise self.flaky[label].pop(0)
        await session.execute(
            text("INSERT INTO effects (event_id, label) VALUES (:id, :label)"),
            {"id": event.id, "label": label},
        )


async def _start(infra, broker: PrivateBroker):  # type: ignore[no-untyped-def]
    """A service process consuming the work-order topic with a `Handler`, on `broker`."""
    url = await infra.fresh_database("intake", seed=False)
    handler = Handler()
    spec = ServiceSpec(
        service="intake",  # its tables, its outbox channel and its CLI name
        title="dead letters under test",
        description="",
        routers=[],
        outbox=outbox,
        inbox=inbox,
        consume=[WORKORDER],
        handlers=lambda rt: Handlers().on(ev.WorkOrderClosedV1, lambda s, e, _closed: handler(s, e)),
        consumer_group=f"t-deadletters-{uuid.uuid4().hex[:8]}",
    )
    settings = CommonSettings(
        broker_check_seconds=CHECK_SECONDS, consumer_retry_max_seconds=1.0, ready_consumer_seconds=1.5
    )
    running = await serve(
        "intake", create_service_app(spec, db_url=url, bootstrap=broker.bootstrap, settings=settings)
    )
    try:
        await make_effects_table(running.rt.sessionmaker)
        await consumers_ready(running)
    except BaseException:
        await running.stop()
        raise
    running.handler = handler  # type: ignore[attr-defined]
    running.bootstrap = broker.bootstrap  # type: ignore[attr-defined]
    running.db_url = url  # type: ignore[attr-defined]
    running.broker = broker  # type: ignore[attr-defined]
    return running


@pytest.fixture(scope="module")
async def svc(infra):
    broker = PrivateBroker(infra.tmp or Path(tempfile.mkdtemp(prefix="lawline-dl-"))).start()
    try:
        running = await _start(infra, broker)
        yield running
        await running.stop()
    finally:
        broker.stop()


async def _publish(svc, *labels: str) -> list:  # type: ignore[no-untyped-def]
    """Through the service's own outbox, as its use cases do."""
    events = [closed_event(COUNTY, label) for label in labels]
    await enqueue_events(svc.rt.sessionmaker, topic(WORKORDER), [(COUNTY, e) for e in events])
    return events


async def _letter(svc, event_id: str, **expect):  # type: ignore[no-untyped-def]
    """The dead letter of this event once it matches `expect` (status, failures …)."""

    async def found():
        async with svc.client(headers=ADMIN) as c:
            r = await c.get("/v1/dead-letters", params={"status": "all"})
        assert r.status_code == 200, r.text
        rows = [x for x in r.json()["items"] if x["event_id"] == event_id]
        assert len(rows) <= 1, rows  # one row per failing event, however often it failed
        return rows[0] if rows and all(rows[0][k] == v for k, v in expect.items()) else None

    return await wait_for(found, timeout=20, what=f"dead letter {event_id} with {expect}")


async def _effects_of(svc, event_id: str) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for i, _ in await effects(svc.rt.sessionmaker) if i == event_id)


async def _handled(svc, event) -> None:  # type: ignore[no-untyped-def]
    async def done():
        return await _effects_of(svc, event.id) > 0

    await wait_for(done, timeout=20, what=f"{event.data['number']} handled")


async def _replay(svc, ids: list[int] | None) -> dict:  # type: ignore[no-untyped-def]
    async with svc.client(headers=ADMIN) as c:
        r = await c.post("/v1/dead-letters/replay", json={"ids": ids})
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_poison_event_is_kept_copied_and_shown_to_admins_only(svc):
    svc.handler.poison.add("poison-1")
    poison, after = await _publish(svc, "poison-1", "after-poison-1")
    letter = await _letter(svc, poison.id, status="open")
    assert letter["consumer"] == "intake" and letter["event_type"] == ev.WORKORDER_CLOSED
    assert letter["topic"] == topic(WORKORDER) and letter["key"] == COUNTY
    assert letter["partition"] >= 0 and letter["offset"] >= 0
    assert letter["error"] == "ValueError: poison-1 cannot be handled"
    assert letter["failures"] == 1 and letter["replays"] == 0
    assert svc.handler.calls["poison-1"] >= 3  # consumer_max_attempts
    await _handled(svc, after)  # the county's partition goes on past it

    async with svc.client(headers=ADMIN) as c:
        shown = (await c.get(f"/v1/dead-letters/{letter['id']}")).json()
        listed = (await c.get("/v1/dead-letters")).json()
    assert shown["value"]["number"] == "poison-1"
    assert ["ce_id", poison.id] in shown["headers"]
    assert letter["id"] in [x["id"] for x in listed["items"]] and listed["counts"]["open"] >= 1

    # The broker's copy: the original record with the error attached.
    copies = [r for r in await read_topic(svc.bootstrap, topic(DEAD_LETTER)) if ce_ids([r]) == [poison.id]]
    assert len(copies) == 1
    headers = dict(copies[0].headers)
    assert headers["lawline_error"] == b"ValueError: poison-1 cannot be handled"
    assert headers["lawline_original_topic"].decode() == topic(WORKORDER)
    assert headers["lawline_consumer"] == b"intake" and copies[0].key == COUNTY.encode()

    async with svc.client(headers=auth("operator")) as c:  # staff, but not admin
        assert (await c.get("/v1/dead-letters")).status_code == 403
        assert (await c.get(f"/v1/dead-letters/{letter['id']}")).status_code == 403
        assert (await c.post("/v1/dead-letters/replay", json={"ids": [letter["id"]]})).status_code == 403
        r = await c.post(f"/v1/dead-letters/{letter['id']}/discard", json={"note": "not mine to judge"})
        assert r.status_code == 403 and r.json()["code"] == "role_forbidden"
    async with svc.client() as c:
        assert (await c.get("/v1/dead-letters")).status_code == 401
    await _letter(svc, poison.id, status="open", replays=0)  # none of that touched it


async def test_a_payload_that_does_not_parse_is_a_dead_letter_naming_the_field(svc):
    # Handlers parse the payload with its model before the handler runs: a missing field is one
    # dead letter at the first try (no later try parses it), and the handler never sees it.
    bad, after = closed_event(COUNTY, "unparsed-1"), closed_event(COUNTY, "after-unparsed-1")
    del bad.data["closed_at"]
    await enqueue_events(svc.rt.sessionmaker, topic(WORKORDER), [(COUNTY, bad), (COUNTY, after)])
    letter = await _letter(svc, bad.id, status="open")
    assert letter["error"] == "payload_invalid: closed_at: Field required"
    assert letter["event_type"] == ev.WORKORDER_CLOSED and letter["failures"] == 1
    assert svc.handler.calls["unparsed-1"] == 0
    await _handled(svc, after)


async def test_replay_that_fails_again_counts_on_the_same_row_then_handles_once(svc):
    svc.handler.poison.add("poison-2")
    (poison,) = await _publish(svc, "poison-2")
    first = await _letter(svc, poison.id, status="open", failures=1)

    # Replayed while the bug is still there: back as the same dead letter, one more failure.
    assert (await _replay(svc, [first["id"]]))["replayed"] == 1
    again = await _letter(svc, poison.id, status="open", failures=2)
    assert again["id"] == first["id"] and again["replays"] == 1

    svc.handler.poison.discard("poison-2")  # the fix is deployed
    body = await _replay(svc, [first["id"]])
    assert body["results"] == [
        {"id": first["id"], "replayed": True, "event_id": poison.id, "topic": topic(WORKORDER)}
    ]
    await _handled(svc, poison)
    done = await _letter(svc, poison.id, status="replayed", replays=2)
    assert done["resolved_by"] == "test-admin-1404" and done["failures"] == 2

    # Replaying again — by id, or "every open one" — sends nothing and has no second effect.
    assert (await _replay(svc, [first["id"]]))["replayed"] == 0
    everything_open = await _replay(svc, None)  # (earlier tests' letters may still be open)
    assert first["id"] not in [x["id"] for x in everything_open["results"]]
    (marker,) = await _publish(svc, "after-replays")
    await _handled(svc, marker)  # everything published before it has been consumed
    assert await _effects_of(svc, poison.id) == 1
    async with svc.rt.sessionmaker() as s:
        audited = await s.scalar(
            text("SELECT count(*) FROM audit_log WHERE action = 'deadletter.replayed' AND subject = :id"),
            {"id": poison.id},
        )
    assert audited == 2


async def test_discard_needs_a_note_and_is_audited(svc):
    svc.handler.poison.add("poison-3")
    (poison,) = await _publish(svc, "poison-3")
    letter = await _letter(svc, poison.id, status="open")
    url = f"/v1/dead-letters/{letter['id']}/discard"
    async with svc.client(headers=ADMIN) as c:
        missing = await c.post(url, json={})
        assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "note"
        assert (await c.post(url, json={"note": "x"})).status_code == 422
        r = await c.post(url, json={"note": "重复事件，已人工处理"})
        assert r.status_code == 200 and r.json() == {"discarded": 1}
        assert (await c.post(url, json={"note": "重复事件，已人工处理"})).status_code == 404
    done = await _letter(svc, poison.id, status="discarded")
    assert done["note"] == "重复事件，已人工处理" and done["resolved_by"] == "test-admin-1404"
    assert (await _replay(svc, [letter["id"]]))["replayed"] == 0  # closed: not sent back
    async with svc.rt.sessionmaker() as s:
        entry = (
            await s.execute(
                text(
                    "SELECT actor, detail FROM audit_log WHERE action = 'deadletter.discarded' AND subject = :id"
                ),
                {"id": str(letter["id"])},
            )
        ).one()
    assert entry.actor == "test-admin-1404" and entry.detail == {"note": "重复事件，已人工处理"}


async def _cli(capsys, *argv: str):  # type: ignore[no-untyped-def]
    """The CLI in a thread (it runs its own event loop); its JSON output, comment lines dropped."""
    capsys.readouterr()
    status = await asyncio.to_thread(deadletters._main, list(argv))
    out = "\n".join(line for line in capsys.readouterr().out.splitlines() if not line.startswith("#"))
    return status, json.loads(out)


async def test_the_cli_lists_shows_and_replays_the_same_rows(svc, capsys, monkeypatch):
    monkeypatch.setenv("INTAKE_DATABASE_URL", svc.db_url)
    svc.handler.poison.add("poison-4")
    (poison,) = await _publish(svc, "poison-4")
    letter = await _letter(svc, poison.id, status="open")

    status, out = await _cli(capsys, "list", "intake")
    assert status == 0 and out["service"] == "intake"
    assert [x["id"] for x in out["result"]["items"] if x["event_id"] == poison.id] == [letter["id"]]
    status, out = await _cli(capsys, "show", "intake", str(letter["id"]))
    assert status == 0 and out["result"]["value"]["number"] == "poison-4"
    assert out["result"]["error"] == "ValueError: poison-4 cannot be handled"
    status, out = await _cli(capsys, "show", "intake", "999999")
    assert status == 1 and out["error_en"] == "dead letter not found"

    svc.handler.poison.discard("poison-4")
    status, out = await _cli(capsys, "replay", "intake", str(letter["id"]))
    assert status == 0 and out["result"] == [
        {"id": letter["id"], "replayed": True, "event_id": poison.id, "topic": topic(WORKORDER)}
    ]
    await _handled(svc, poison)  # the running service's relay was woken by the CLI's NOTIFY
    replayed = await _letter(svc, poison.id, status="replayed")
    assert replayed["resolved_by"].startswith("cli:")
    status, out = await _cli(capsys, "replay", "intake", "--all")  # every open one: not this one
    assert status == 0 and letter["id"] not in [x["id"] for x in out["result"]]
    status, out = await _cli(capsys, "list", "intake", "--status", "replayed")
    assert letter["id"] in [x["id"] for x in out["result"]["items"]]
    assert await _effects_of(svc, poison.id) == 1


async def test_infrastructure_failures_are_retried_in_order_and_never_dead_lettered(svc):
    """A handler whose database refuses connections (and then is "starting up") has done nothing
    wrong: the record is tried again until it works, and the county's later records wait."""
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 5432)")
    starting = asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
    svc.handler.flaky["flaky"] = [refused, refused, refused, starting, starting]
    retries_before = svc.rt.consumers[0].transient_retries
    flaky, later, last = await _publish(svc, "flaky", "behind-flaky-1", "behind-flaky-2")

    async def retrying():
        return svc.handler.calls["flaky"] >= 3

    await wait_for(retrying, timeout=20, what="the first retries")
    assert await _effects_of(svc, later.id) == 0  # held behind the record being retried
    async with svc.client() as c:  # the readiness check says a record is stuck on the infrastructure

        async def stuck():
            r = await c.get("/readyz")
            reason = r.json()["checks"][f"consumer:{svc.rt.consumers[0].group}"]
            return (r.status_code, reason) if reason.startswith("a record has waited") else None

        status, _ = await wait_for(stuck, timeout=10, what="readyz to name the stuck record")
    assert status == 503

    await _handled(svc, last)
    labels = [label for _, label in await effects(svc.rt.sessionmaker)]
    assert [x for x in labels if x in ("flaky", "behind-flaky-1", "behind-flaky-2")] == [
        "flaky",
        "behind-flaky-1",
        "behind-flaky-2",
    ]
    assert svc.handler.calls["flaky"] == 6  # five failures, then done
    # Each failure retried (one may have been the lane's try of a run of records together).
    assert svc.rt.consumers[0].transient_retries - retries_before >= 4
    assert svc.rt.consumers[0].waiting_since is None
    async with svc.rt.sessionmaker() as s:
        letters = await s.scalar(
            text("SELECT count(*) FROM dead_letters WHERE event_id = :id"), {"id": flaky.id}
        )
    assert letters == 0
    async with svc.client() as c:

        async def ready():
            r = await c.get("/readyz")
            return r if r.status_code == 200 else None

        await wait_for(ready, timeout=10, what="readyz green again")


async def test_a_discarded_event_stays_discarded_when_the_broker_delivers_it_again(svc):
    """A person judged the event not needed (say, handled by hand). After a broker reset every
    partition is read again from its start and the relay republishes its window: the event must
    not be handled then, even though the handler would now succeed, nor open its letter again.
    (Last in this module: it restarts the module's broker.)"""
    svc.handler.poison.add("discarded")
    (event,) = await _publish(svc, "discarded")
    letter = await _letter(svc, event.id, status="open")
    async with svc.client(headers=ADMIN) as c:
        r = await c.post(f"/v1/dead-letters/{letter['id']}/discard", json={"note": "已人工处理"})
        assert r.status_code == 200
    svc.handler.poison.discard("discarded")  # the handler would succeed now

    epoch = svc.rt.watch.epoch
    svc.broker.restart()

    async def new_epoch():
        return svc.rt.watch.epoch != epoch

    await wait_for(new_epoch, timeout=20, what="the new epoch")
    # Published after the republished window, on the same partition: once it is handled, the
    # discarded event has been read again from the new log.
    (marker,) = await _publish(svc, "after-the-reset")
    await _handled(svc, marker)
    assert await _effects_of(svc, event.id) == 0
    await _letter(svc, event.id, status="discarded")
