"""The SMS gateway interface, and the development provider that appends to a file.

A gateway sends one message and must be idempotent on the message's id: the sender may hand
it the same message again after a crash between the provider's answer and the mark (sender.py).
The file provider dedupes by id itself; Aliyun gets the id as OutId and is asked first
(`find_sent`) whether a message in doubt already went (aliyun.py)."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class OutgoingSms:
    id: str  # our message id: the provider's idempotency key (Aliyun OutId)
    phone: str  # the digits (pii.phone_key), decrypted only for this call
    template: str
    params: dict[str, str]
    text: str


class SmsError(Exception):
    """The provider refused or could not be reached; `code` is its own word for it."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class TransientSmsError(SmsError):
    """Try again later (flow control, the provider's own error, the network). `maybe_sent`: the
    request may have reached the provider (a timeout after sending), so the next try checks first."""

    def __init__(self, code: str, message: str = "", *, maybe_sent: bool = False) -> None:
        super().__init__(code, message)
        self.maybe_sent = maybe_sent


class PermanentSmsError(SmsError):
    """Trying again cannot help (no such number, template not approved, no balance): recorded."""


class SmsGateway(Protocol):
    name: str

    async def send(self, message: OutgoingSms) -> str:
        """Send it; the provider's id for it. Raises TransientSmsError / PermanentSmsError."""
        ...

    async def find_sent(self, message: OutgoingSms) -> str | None:
        """For a message in doubt: the provider's id if an earlier try already sent it."""
        ...

    async def aclose(self) -> None: ...


class FileGateway:
    """Development provider: one JSON line per message in `path` (var/sms/outbox.jsonl for
    `make run`), read by the demo and the tests. Like a provider with an idempotency key, a
    message id already in the file is not written again. Several processes may append: the
    file is locked (flock) around the check and the write."""

    name = "file"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # The ids in the file up to `_offset`: each send reads only what was appended since.
        self._seen: set[str] = set()
        self._offset = 0

    async def send(self, message: OutgoingSms) -> str:
        return await asyncio.to_thread(self._append, message)

    async def find_sent(self, message: OutgoingSms) -> str | None:
        return await asyncio.to_thread(self._find, message.id)

    async def aclose(self) -> None:
        return None

    def _catch_up(self, f: BinaryIO) -> None:
        if os.fstat(f.fileno()).st_size < self._offset:  # the file was emptied or replaced
            self._seen, self._offset = set(), 0
        f.seek(self._offset)
        for line in f.read().splitlines():
            if line.strip():
                self._seen.add(json.loads(line)["id"])
        self._offset = f.tell()

    def _append(self, message: OutgoingSms) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                self._catch_up(f)
                if message.id in self._seen:
                    return f"file-{message.id}"  # already sent: the same answer again
                row = {
                    "id": message.id,
                    "to": message.phone,
                    "template": message.template,
                    "params": message.params,
                    "text": message.text,
                    "at": datetime.now(UTC).isoformat(),
                }
                f.write((json.dumps(row, ensure_ascii=False) + "\n").encode())
                f.flush()
                os.fsync(f.fileno())
                self._seen.add(message.id)
                self._offset = f.tell()
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return f"file-{message.id}"

    def _find(self, message_id: str) -> str | None:
        if not self.path.exists():
            return None
        with self.path.open("rb") as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            try:
                self._catch_up(f)
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return f"file-{message_id}" if message_id in self._seen else None


def read_outbox(path: str | os.PathLike[str]) -> list[dict]:
    """Every message the file provider wrote (the demo and tests read it)."""
    p = Path(path)
    if not p.exists():
        return []
    with p.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
