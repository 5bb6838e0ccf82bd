"""Use cases of a case's documents: upload, list, open for download. Never commits — the caller
owns the transaction (the upload's bytes, its metadata, the checklist and the audit entry commit
together or not at all)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.calendar import WorkCalendar
from libs.common.problems import Problem
from services.aid import domain, queries
from services.aid.models import Case, CaseUpload
from services.aid.service import facts_of, recheck_supplement
from services.aid.settings import AidRules
from services.aid.uploads import rules as r
from services.aid.uploads.store import DocumentStore
from services.aid.workflow import SERVICE, actor_of, local_day


class Readable(Protocol):
    """An uploaded file (starlette's UploadFile: spooled to disk, read and rewound)."""

    async def read(self, size: int = -1) -> bytes: ...
    async def seek(self, offset: int) -> None: ...


@dataclass(frozen=True)
class Scan:
    size: int
    sha256: str
    head: bytes


async def _scan(file: Readable, limits: r.UploadLimits) -> Scan:
    """First pass: size, checksum and the first bytes — stops reading once over the limit."""
    digest, size, head = hashlib.sha256(), 0, b""
    while chunk := await file.read(limits.chunk_bytes):
        size += len(chunk)
        if size > limits.max_bytes:
            break
        digest.update(chunk)
        if len(head) < r.SNIFF_BYTES:
            head += chunk[: r.SNIFF_BYTES - len(head)]
    return Scan(size, digest.hexdigest(), head)


async def _chunks(file: Readable, size: int) -> AsyncIterator[bytes]:
    await file.seek(0)
    while chunk := await file.read(size):
        yield chunk


def _ensure_open(case: Case) -> None:
    if case.status in domain.TERMINAL:
        raise Problem(
            409,
            f"案件{domain.STATES[case.status]}，不能再上传材料",
            f"the case is {case.status}: no more documents",
            code="case_closed",
            state=case.status,
        )


async def upload(
    session: AsyncSession,
    *,
    case: Case,
    kind: str,
    filename: str | None,
    declared_type: str | None,
    file: Readable,
    store: DocumentStore,
    limits: r.UploadLimits,
    who: Principal,
    now: datetime,
    cal: WorkCalendar,
    rules: AidRules,
) -> tuple[CaseUpload, bool]:
    """(the document, whether it is new). The same bytes already on the case are that document:
    answered with it, not stored twice. `case` is row-locked by the caller, so two uploads of
    one case are serialised and the duplicate check holds."""
    _ensure_open(case)
    r.check_kind(kind)
    scan = await _scan(file, limits)
    r.check_size(scan.size, limits)
    ctype = r.content_type(declared_type, scan.head)
    existing = await session.scalar(
        select(CaseUpload).where(CaseUpload.case_id == case.id, CaseUpload.sha256 == scan.sha256)
    )
    if existing is not None:
        return existing, False
    up = CaseUpload(
        id=uuid.uuid4(),
        case_id=case.id,
        kind=kind,
        filename=r.clean_filename(filename, ctype),
        content_type=ctype,
        size=scan.size,
        sha256=scan.sha256,
        storage=store.name,
        chunks=0,
        uploaded_by=actor_of(who),
        uploaded_at=now,
    )
    session.add(up)
    await session.flush()  # the chunks reference it
    up.chunks = await store.put(session, up.id, _chunks(file, limits.chunk_bytes))
    # No file name in the trail: it often carries the person's name.
    await audit.record(
        session,
        service=SERVICE,
        action="aid.document_uploaded",
        subject=str(case.id),
        detail={"upload_id": str(up.id), "kind": kind, "sha256": scan.sha256, "size": scan.size},
    )
    await _tick(session, case, up, who=who, now=now, cal=cal, rules=rules)
    return up, True


async def _tick(
    session: AsyncSession,
    case: Case,
    up: CaseUpload,
    *,
    who: Principal,
    now: datetime,
    cal: WorkCalendar,
    rules: AidRules,
) -> None:
    """A new kind on file: the checklist ticks it off. While the file is incomplete (一次性告知
    given) it is a supplement: the list shrinks, and the last item accepts the application
    (a case-log step and its event, as a supplement at the window)."""
    if up.kind in {a["kind"] for a in case.attachments}:
        return
    case.attachments = [*case.attachments, {"kind": up.kind, "name": up.filename, "upload_id": str(up.id)}]
    if up.kind in case.deferred_items:  # 容缺 / Art 44: supplied during review
        case.deferred_items = [k for k in case.deferred_items if k != up.kind]
    case.updated_at = now
    if case.status == "incomplete":
        await recheck_supplement(session, case=case, who=who, now=now, cal=cal, rules=rules)


async def list_uploads(session: AsyncSession, case_id: uuid.UUID) -> list[CaseUpload]:
    """Metadata only: the chunks table is not touched."""
    q = (
        select(CaseUpload)
        .where(CaseUpload.case_id == case_id)
        .order_by(CaseUpload.uploaded_at, CaseUpload.id)
    )
    return list((await session.scalars(q)).all())


async def checklist_of(
    session: AsyncSession, case: Case, rules: AidRules, now: datetime
) -> list[r.ChecklistItem]:
    counts = dict(
        (
            await session.execute(
                select(CaseUpload.kind, func.count())
                .where(CaseUpload.case_id == case.id)
                .group_by(CaseUpload.kind)
            )
        ).all()
    )
    required = r.required_items(
        facts_of(case, rules, local_day(now)), rules, notified=case.kind == "notification"
    )
    return r.checklist(
        required, {a["kind"] for a in case.attachments}, counts, set(case.deferred_items or [])
    )


async def open_download(
    session: AsyncSession, *, case_id: uuid.UUID, upload_id: uuid.UUID, who: Principal
) -> CaseUpload:
    """The document, if the caller can see its case (else the case's own 404), with the download
    written to the audit trail in the caller's transaction — committed before a byte is sent."""
    case = await queries.get_case(session, case_id=case_id, who=who)
    up = await session.scalar(
        select(CaseUpload).where(CaseUpload.id == upload_id, CaseUpload.case_id == case.id)
    )
    if up is None:
        raise Problem(404, "未找到该材料文件", "document not found")
    await audit.record(
        session,
        service=SERVICE,
        action="aid.document_downloaded",
        subject=str(case.id),
        detail={"upload_id": str(up.id), "kind": up.kind, "sha256": up.sha256},
    )
    return up
