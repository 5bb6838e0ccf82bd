"""A real HTTP receiver for the webhook tests: records every request, answers 500 while told to
fail (`fail_next`), always at `/dead`."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs.common.embedded import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    fail_next: int = 0

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


@contextlib.asynccontextmanager
async def receiver():  # type: ignore[no-untyped-def]
    rec = Receiver()

    async def hook(request: Request) -> Response:
        rec.requests.append(Received(request.url.path, dict(request.headers), await request.body()))
        if request.url.path == "/dead":
            return Response("down", status_code=503)
        if rec.fail_next > 0:
            rec.fail_next -= 1
            return Response("try later", status_code=500)
        return Response(status_code=204)

    app = Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    rec.url = f"http://127.0.0.1:{port}"
    try:
        yield rec
    finally:
        server.should_exit = True
        await asyncio.wait({task}, timeout=5)
