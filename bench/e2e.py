"""End to end: from each POST's 201 to the matching `dispatch.offered` on Kafka (and to
the SSE push of the counter-staff inbox, when `GET /v1/inbox/stream` exists).

Open loop: order i is sent at t0 + i/rate whatever happened to the earlier ones, so a
slow system shows as growing delays, not as a politely lower offered rate. The Kafka
consumer reads the dispatch topic without a group (all partitions, from the end), in
this process; delays are measured on one monotonic clock. Bounded: `seconds` of
sending, at most `rate·seconds` orders, then at most `settle` seconds of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp
import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.payloads import OrderFactory
from bench.stats import summary_ms
from libs.common.events import dispatch as dev
from libs.common.events.intake import WORKORDER_CREATED
from libs.common.events.topics import DISPATCH, WORKORDER, topic


class OfferWatcher:
    """When each work order's first dispatch event (and its workorder.created) was produced,
    keyed by work order id: the records' own timestamps, on the senders' perf_counter scale."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.seen: dict[str, tuple[str, float]] = {}  # first dispatch event per work order
        self.published: dict[str, float] = {}  # intake's workorder.created on Kafka
        self._workorder = topic(WORKORDER)
        self._task: asyncio.Task | None = None
        self.consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        # When an event happened is the record's own timestamp (the producer's clock at the
        # relay's send — this machine's clock, to the millisecond), not when this watcher fetched
        # it: Tansu holds an empty fetch for its whole wait and answers a record that arrived
        # meanwhile only at its next look, so arrival time was only as exact as the fetch wait.
        # It was 10 ms — ~100 fetches/s of 24 partitions, 15-17 % of a core of broker work that
        # the per-order figures counted as the stack's (bench/floor.py measured it). Now the
        # watcher may fetch slowly: 500 ms.
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=500
        )
        await self.consumer.start()
        tps = []
        for name in (topic(DISPATCH), topic(WORKORDER)):
            parts = self.consumer.partitions_for_topic(name)
            for _ in range(50):  # bounded: the topics exist once a service has started
                if parts:
                    break
                await self.consumer.force_metadata_update()
                parts = self.consumer.partitions_for_topic(name)
                await asyncio.sleep(0.1)
            tps += [TopicPartition(name, p) for p in sorted(parts or [])]
        self.consumer.assign(tps)
        await self.consumer.seek_to_end(*tps)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self.consumer is not None
        while True:
            batches = await self.consumer.getmany(timeout_ms=500, max_records=500)
            # The record's wall-clock timestamp on the perf_counter scale the senders use.
            offset = time.perf_counter() - time.time()
            for records in batches.values():
                for r in records:
                    now = r.timestamp / 1000 + offset
                    etype = dict(r.headers or ()).get("ce_type", b"").decode()
                    try:
                        wid = orjson.loads(r.value).get("work_order_id")
                    except orjson.JSONDecodeError:
                        continue
                    if not wid:
                        continue
                    if r.topic == self._workorder:
                        if etype == WORKORDER_CREATED:
                            self.published.setdefault(wid, now)
                    elif wid not in self.seen:
                        self.seen[wid] = (etype, now)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self.consumer:
            await self.consumer.stop()


class SseWatcher:
    """Reads the counter-staff inbox stream `GET /v1/inbox/stream` on dispatch, if it exists:
    one stream per person (each sees only their own offers), and records when each order id
    first appears in a pushed event."""

    def __init__(self, url: str, people: list[dict[str, str]]) -> None:
        self.url, self.people = url, people  # people: Authorization headers, one per staff member
        self.seen: dict[str, float] = {}
        self.status: str = "not checked"
        self.streams = 0
        self._tasks: list[asyncio.Task] = []
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        limits = httpx.Limits(max_connections=len(self.people) + 4)
        self._client = httpx.AsyncClient(
            base_url=self.url, timeout=httpx.Timeout(10, read=None), limits=limits
        )
        first = asyncio.Event()
        self._tasks = [asyncio.create_task(self._run(h, first)) for h in self.people]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(first.wait(), 10)
        await asyncio.sleep(1.0)  # let the other streams subscribe

    async def _run(self, headers: dict[str, str], first: asyncio.Event) -> None:
        assert self._client is not None
        try:
            async with self._client.stream("GET", "/v1/inbox/stream", headers=headers) as r:
                if r.status_code != 200:
                    if self.status == "not checked":
                        self.status = (
                            f"not available (HTTP {r.status_code})"
                            if r.status_code in (404, 405)
                            else f"error HTTP {r.status_code}"
                        )
                    first.set()
                    return
                self.status = "measured"
                self.streams += 1
                first.set()
                async for line in r.aiter_lines():
                    if line.startswith("data:"):
                        now = time.perf_counter()
                        with contextlib.suppress(ValueError, AttributeError):
                            data = orjson.loads(line[5:].strip())
                            wid = data.get("work_order_id") if isinstance(data, dict) else None
                            if wid and wid not in self.seen:
                                self.seen[wid] = now
        except httpx.HTTPError as exc:
            if self.status == "not checked":
                self.status = f"error: {type(exc).__name__}"
            first.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        if self._client is not None:
            await self._client.aclose()


def inbox_people() -> list[dict[str, str]]:
    """Authorization headers for every demo person who can receive offers (city and county
    centres), as themselves: the stream shows a person only their own offers."""
    from libs.common import demo_network
    from libs.common.testing.auth import auth

    _, staff = demo_network.build()
    role_for = {"lawyer": "lawyer", "mediator": "mediator", "aid_officer": "aid_officer"}
    return [
        auth(role_for.get(s.role, "counter_staff"), region="1404", staff_id=str(s.id))
        for s in staff
        if s.point.tier in ("city", "county")
    ]


async def warm_up(
    intake_url: str, headers: dict[str, str], watcher: OfferWatcher, timeout: float = 60.0
) -> float:
    """Send an order every 2 s until one reaches dispatch.offered: the consumer groups have
    joined (seconds, on Tansu) and first-use costs are paid, so the rates measure the steady
    state, not a start-up backlog. Returns the seconds it took."""
    factory = OrderFactory(99)
    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=intake_url, headers=headers, timeout=10) as client:
        while time.perf_counter() - t0 < timeout:
            r = await client.post("/v1/work-orders", json=factory.order())
            if r.status_code == 201:
                wid = r.json()["id"]
                for _ in range(20):
                    if wid in watcher.seen:
                        return round(time.perf_counter() - t0, 1)
                    await asyncio.sleep(0.1)
    raise TimeoutError(f"no order reached dispatch.offered within {timeout} s")


async def open_loop(
    intake_url: str,
    headers: dict[str, str],
    watcher: OfferWatcher,
    sse: SseWatcher | None,
    *,
    rate: float,
    seconds: float,
    settle: float = 10.0,
    seed: int = 2,
    max_in_flight: int = 256,
) -> dict:
    factory = OrderFactory(seed)
    created: dict[str, float] = {}
    post_lat: list[float] = []
    failures: dict[str, int] = {}
    n = int(rate * seconds)
    connector = aiohttp.TCPConnector(limit=max_in_flight)
    async with aiohttp.ClientSession(
        base_url=intake_url,
        headers=headers,
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=30),
        json_serialize=lambda o: orjson.dumps(o).decode(),
    ) as client:
        in_flight = 0

        async def send(body: dict) -> None:
            nonlocal in_flight
            in_flight += 1
            t = time.perf_counter()
            try:
                async with client.post("/v1/work-orders", json=body) as r:
                    raw = await r.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                return
            finally:
                in_flight -= 1
            done = time.perf_counter()
            if r.status == 201:
                created[orjson.loads(raw)["id"]] = done
                post_lat.append(done - t)
            else:
                failures[str(r.status)] = failures.get(str(r.status), 0) + 1

        t0 = time.perf_counter()
        tasks = []
        for i in range(n):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if in_flight >= max_in_flight:  # the server is far behind: don't pile up sockets
                failures["skipped_client_cap"] = failures.get("skipped_client_cap", 0) + 1
                continue
            tasks.append(asyncio.create_task(send(factory.order())))
        send_span = time.perf_counter() - t0
        # Bounded: POSTs still open `settle` seconds after the last send are abandoned.
        _, pending = await asyncio.wait(tasks, timeout=settle) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        if pending:
            failures["abandoned_after_settle"] = len(pending)
            await asyncio.wait(pending, timeout=5)
    for _ in range(int(settle / 0.05)):  # bounded wait for the last events
        if all(w in watcher.seen for w in created):
            break
        await asyncio.sleep(0.05)
    offered, other = [], {}
    for wid, t in created.items():
        got = watcher.seen.get(wid)
        if got is None:
            continue
        if got[0] == dev.OFFERED:
            offered.append(got[1] - t)
        else:
            other[got[0]] = other.get(got[0], 0) + 1
    missing = sum(1 for w in created if w not in watcher.seen)
    to_created = [watcher.published[w] - t for w, t in created.items() if w in watcher.published]
    created_to_dispatch = [
        watcher.seen[w][1] - watcher.published[w]
        for w in created
        if w in watcher.seen and w in watcher.published
    ]
    result = {
        "offered_rate": rate,
        "sent": len(tasks),
        "achieved_send_rate": round(len(tasks) / send_span, 1) if send_span else None,
        "created": len(created),
        "failures": failures,
        "post_latency_ms": summary_ms(post_lat),
        "to_offered_ms": summary_ms(offered),
        # Where the time goes: intake's relay (201 → workorder.created on Kafka), then
        # dispatch (consume, route, commit, relay → first dispatch event on Kafka).
        "to_workorder_created_ms": summary_ms(to_created),
        "created_to_dispatch_event_ms": summary_ms(created_to_dispatch),
        "other_dispatch_events": other,
        "no_dispatch_event_within_settle": missing,
    }
    if sse is not None:
        if sse.status == "measured":
            result["to_sse_ms"] = summary_ms([sse.seen[w] - t for w, t in created.items() if w in sse.seen])
            result["sse_streams"] = sse.streams
        else:
            result["to_sse_ms"] = sse.status
    return result
