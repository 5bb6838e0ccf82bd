"""Live counter inbox: PostgreSQL LISTEN/NOTIFY → server-sent events.

make_offer() NOTIFYs `dispatch_offers` inside the offer's transaction, so the message
is delivered exactly at commit, to every dispatch instance listening on the same
database: an SSE client on any instance hears offers made by any instance, within
milliseconds of the decision. Each instance keeps one listening connection and fans
messages out to its own subscribers by staff id (a person only ever hears their own).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict

import asyncpg

from libs.common.backoff import Backoff
from services.dispatch.service import OFFER_CHANNEL

log = logging.getLogger(__name__)


class OfferHub:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.subscribers: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self.listening = asyncio.Event()
        self._conn: asyncpg.Connection | None = None

    def _on_notify(self, _conn, _pid, _channel, payload: str) -> None:  # type: ignore[no-untyped-def]
        try:
            note = json.loads(payload)
        except ValueError:
            return
        for q in list(self.subscribers.get(note.get("staff_id", ""), ())):
            q.put_nowait(note)

    async def run(self) -> None:
        """Keep one LISTEN connection open; reconnect (1 s later) if the database goes away."""
        reconnect = Backoff(first=1.0, cap=1.0)
        while True:
            try:
                lost = asyncio.Event()
                self._conn = await asyncpg.connect(self.dsn)
                self._conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await self._conn.add_listener(OFFER_CHANNEL, self._on_notify)
                self.listening.set()
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("offer listener lost (%s); reconnecting", exc)
            finally:
                self.listening.clear()
                if self._conn is not None:
                    with contextlib.suppress(Exception):
                        await self._conn.close()
            await reconnect.sleep()

    def subscribe(self, staff_id: str) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self.subscribers[staff_id].add(q)
        return q

    def unsubscribe(self, staff_id: str, q: asyncio.Queue) -> None:
        self.subscribers[staff_id].discard(q)
        if not self.subscribers[staff_id]:
            del self.subscribers[staff_id]
