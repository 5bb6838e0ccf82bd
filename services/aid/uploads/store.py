"""Where the bytes of a document live: one interface, the PostgreSQL implementation.

`PgDocumentStore` keeps a document as rows of `case_upload_chunks` (bytea), each chunk
AES-256-GCM encrypted with the service's PII keys (libs/common/crypto.py) and bound to its
document and position (the AAD), so a chunk edited, moved or dropped fails to decrypt or is
missed; rotation re-encrypts nothing here yet (old keys must stay configured — see crypto).
Written in the caller's transaction, so a refused or failed upload leaves no bytes behind; read
one chunk at a time, so a download never holds a whole file in memory.

The S3-compatible implementation (MinIO, OSS …) is `store_s3.S3DocumentStore`; `document_store`
picks one by AID_DOCUMENT_STORE (postgres, the default, or s3)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.crypto import PiiCipher, get_cipher
from libs.common.orm import table_of
from services.aid.models import CaseUploadChunk

CHUNKS = table_of(CaseUploadChunk)


class DocumentStore(Protocol):
    name: str  # recorded on the document (case_uploads.storage)

    async def put(self, session: AsyncSession, upload_id: uuid.UUID, chunks: AsyncIterator[bytes]) -> int:
        """Store the content in the caller's transaction; the number of chunks written."""
        ...

    def read(self, upload_id: uuid.UUID, chunks: int) -> AsyncIterator[bytes]:
        """The plaintext, chunk by chunk (its own session: it runs while the response streams)."""
        ...


def chunk_aad(upload_id: uuid.UUID, seq: int) -> bytes:
    return f"{upload_id}:{seq}".encode()


class CorruptDocument(Exception):
    """A chunk is missing or does not decrypt: the stored document was altered."""


class PgDocumentStore:
    name = "postgres"

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], cipher: PiiCipher | None = None):
        self._sessionmaker = sessionmaker
        self._cipher = cipher

    @property
    def cipher(self) -> PiiCipher:
        return self._cipher or get_cipher()

    async def put(self, session: AsyncSession, upload_id: uuid.UUID, chunks: AsyncIterator[bytes]) -> int:
        seq = 0
        async for chunk in chunks:
            kid, blob = self.cipher.encrypt_bytes(chunk, chunk_aad(upload_id, seq))
            await session.execute(
                insert(CHUNKS).values(upload_id=upload_id, seq=seq, key_id=kid, content=blob)
            )
            seq += 1
        return seq

    async def read(self, upload_id: uuid.UUID, chunks: int) -> AsyncIterator[bytes]:
        async with self._sessionmaker() as session:
            for seq in range(chunks):
                row = (
                    await session.execute(
                        select(CaseUploadChunk.key_id, CaseUploadChunk.content).where(
                            CaseUploadChunk.upload_id == upload_id, CaseUploadChunk.seq == seq
                        )
                    )
                ).first()
                if row is None:
                    raise CorruptDocument(f"document {upload_id}: chunk {seq} is missing")
                try:
                    yield self.cipher.decrypt_bytes(row.key_id, row.content, chunk_aad(upload_id, seq))
                except Exception as exc:  # cryptography's InvalidTag, an unknown key id
                    raise CorruptDocument(f"document {upload_id}: chunk {seq} does not decrypt") from exc


async def rotate_chunks(session: AsyncSession, *, cipher: PiiCipher | None = None, batch: int = 200) -> int:
    """Re-encrypt, under the current key, chunks still under an older one (LAWLINE_PII_KEYS: the
    new key first, the old ones after it until this reports 0). The caller's transaction; rows
    locked per batch (SKIP LOCKED), so it runs beside the service and resumes where it stopped.
    The S3 store's objects are not rotated by this (not built)."""
    c = cipher or get_cipher()
    rows = (
        await session.execute(
            select(CHUNKS.c.upload_id, CHUNKS.c.seq, CHUNKS.c.key_id, CHUNKS.c.content)
            .where(CHUNKS.c.key_id != c.current)
            .order_by(CHUNKS.c.upload_id, CHUNKS.c.seq)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for row in rows:
        aad = chunk_aad(row.upload_id, row.seq)
        kid, blob = c.encrypt_bytes(c.decrypt_bytes(row.key_id, row.content, aad), aad)
        await session.execute(
            update(CHUNKS)
            .where(CHUNKS.c.upload_id == row.upload_id, CHUNKS.c.seq == row.seq)
            .values(key_id=kid, content=blob)
        )
    return len(rows)


def document_store(sessionmaker: async_sessionmaker[AsyncSession]) -> DocumentStore:
    """The store AID_DOCUMENT_STORE names: postgres (default) or s3 (store_s3.S3Settings)."""
    kind = os.environ.get("AID_DOCUMENT_STORE", "postgres")
    if kind == "postgres":
        return PgDocumentStore(sessionmaker)
    if kind == "s3":
        from services.aid.uploads.store_s3 import S3DocumentStore, S3Settings

        return S3DocumentStore(S3Settings.from_env())
    raise RuntimeError(f"AID_DOCUMENT_STORE={kind!r}: expected postgres or s3")
