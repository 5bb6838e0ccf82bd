"""The S3-compatible implementation of the DocumentStore (MinIO, 阿里云 OSS, Ceph RGW, AWS S3).

The same encrypted chunks as the PostgreSQL store (libs/common/crypto.py `encrypt_bytes`, bound
to document and position), one object each: `<prefix><upload id>/<chunk number>`, the key id in
the object's metadata. The object store never sees plaintext, so its own server-side encryption
is a second layer, not the one the law relies on (PIPL Art 28, 51).

Unlike the PostgreSQL store, objects are not part of the database transaction: they are written
before the upload's row commits. A refused or rolled-back upload can leave unreferenced objects
behind — encrypted and never served (nothing points at them); a bucket lifecycle rule or a sweep
comparing prefixes with `case_uploads` removes them. Nothing is ever left referenced but missing.

Settings: AID_DOCUMENT_STORE=s3, AID_S3_ENDPOINT, AID_S3_BUCKET, AID_S3_ACCESS_KEY,
AID_S3_SECRET_KEY, AID_S3_REGION (default us-east-1; MinIO ignores it), AID_S3_PREFIX."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto import PiiCipher, get_cipher
from services.aid.uploads.store import CorruptDocument, chunk_aad


@dataclass(frozen=True)
class S3Settings:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    prefix: str = "aid/"

    @classmethod
    def from_env(cls) -> S3Settings:
        missing = [n for n in ("AID_S3_ENDPOINT", "AID_S3_BUCKET") if not os.environ.get(n)]
        if missing:
            raise RuntimeError(f"AID_DOCUMENT_STORE=s3 needs {', '.join(missing)}")
        return cls(
            endpoint=os.environ["AID_S3_ENDPOINT"],
            bucket=os.environ["AID_S3_BUCKET"],
            access_key=os.environ.get("AID_S3_ACCESS_KEY", ""),
            secret_key=os.environ.get("AID_S3_SECRET_KEY", ""),
            region=os.environ.get("AID_S3_REGION", "us-east-1"),
            prefix=os.environ.get("AID_S3_PREFIX", "aid/"),
        )


class S3DocumentStore:
    name = "s3"

    def __init__(self, settings: S3Settings, cipher: PiiCipher | None = None):
        self.settings = settings
        self._cipher = cipher

    @property
    def cipher(self) -> PiiCipher:
        return self._cipher or get_cipher()

    def key(self, upload_id: uuid.UUID, seq: int) -> str:
        return f"{self.settings.prefix}{upload_id}/{seq:06d}"

    def _client(self) -> Any:
        from aiobotocore.session import get_session  # only a deployment that uses S3 needs it

        s = self.settings
        return get_session().create_client(
            "s3",
            endpoint_url=s.endpoint,
            region_name=s.region,
            aws_access_key_id=s.access_key,
            aws_secret_access_key=s.secret_key,
        )

    async def put(self, session: AsyncSession, upload_id: uuid.UUID, chunks: AsyncIterator[bytes]) -> int:
        seq = 0
        async with self._client() as s3:
            async for chunk in chunks:
                kid, blob = self.cipher.encrypt_bytes(chunk, chunk_aad(upload_id, seq))
                await s3.put_object(
                    Bucket=self.settings.bucket,
                    Key=self.key(upload_id, seq),
                    Body=blob,
                    Metadata={"key-id": kid},
                )
                seq += 1
        return seq

    async def read(self, upload_id: uuid.UUID, chunks: int) -> AsyncIterator[bytes]:
        async with self._client() as s3:
            for seq in range(chunks):
                try:
                    obj = await s3.get_object(Bucket=self.settings.bucket, Key=self.key(upload_id, seq))
                except s3.exceptions.NoSuchKey as exc:
                    raise CorruptDocument(f"document {upload_id}: chunk {seq} is missing") from exc
                async with obj["Body"] as body:
                    blob = await body.read()
                kid = (obj.get("Metadata") or {}).get("key-id", "")
                try:
                    yield self.cipher.decrypt_bytes(kid, blob, chunk_aad(upload_id, seq))
                except Exception as exc:  # InvalidTag, an unknown key id
                    raise CorruptDocument(f"document {upload_id}: chunk {seq} does not decrypt") from exc
