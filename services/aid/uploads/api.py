"""Routes of a case's documents: multipart in, metadata out, content streamed (audited)."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from libs.common.auth import Principal, principal
from services.aid import queries
from services.aid.calendar_store import load_calendar
from services.aid.models import CaseUpload
from services.aid.uploads import rules as r
from services.aid.uploads import service
from services.aid.uploads.schemas import UploadOut
from services.aid.workflow import load_for_update

router = APIRouter(prefix="/v1", tags=["legal aid"])
Who = Annotated[Principal, Depends(principal)]
UPLOAD_PATH = "/v1/cases/{case_id}/uploads"


def _out(up: CaseUpload, *, duplicate: bool = False) -> UploadOut:
    return UploadOut.model_validate(up).model_copy(
        update={"kind_name": r.KINDS.get(up.kind, up.kind), "duplicate": duplicate}
    )


def _problem(what: str) -> dict[str, str]:
    return {"description": what}


@router.post(
    "/cases/{case_id}/uploads",
    response_model=UploadOut,
    status_code=201,
    summary="Upload a document of the application (ID card, hardship proof, matter materials)",
    description="multipart/form-data: `kind` (a code of GET /v1/rules `attachments`) and `file` "
    "(PDF, JPEG, PNG or HEIC, at most AID_UPLOAD_MAX_BYTES, default 10 MiB). The type is read from "
    "the bytes; the same bytes already on the case answer 200 with that document (`duplicate`).",
    responses={
        200: {"description": "these bytes are already on the case: that document", "model": UploadOut},
        404: _problem("no such case (or not in the caller's jurisdiction)"),
        409: _problem("the case is archived or withdrawn"),
        413: _problem("the file is over the size limit (field `file`)"),
        415: _problem("not an accepted type, or the bytes disagree with the declared type (field `file`)"),
        422: _problem("unknown `kind`, empty file, or a field missing"),
    },
)
async def upload(
    case_id: uuid.UUID,
    request: Request,
    response: Response,
    who: Who,
    kind: Annotated[str, Form(max_length=40, json_schema_extra={"enum": sorted(r.KINDS)})],
    file: Annotated[UploadFile, File(description="PDF, JPEG, PNG or HEIC")],
) -> UploadOut:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session:
        async with session.begin():
            case = await load_for_update(session, case_id, who)
            up, created = await service.upload(
                session,
                case=case,
                kind=kind,
                filename=file.filename,
                declared_type=file.content_type,
                file=file,
                store=rt.ext.documents,
                limits=rt.ext.upload_limits,
                who=who,
                now=rt.clock.now(),
                cal=await load_calendar(session),
                rules=rt.ext.rules,
            )
    if not created:
        response.status_code = 200
    return _out(up, duplicate=not created)


@router.get(
    "/cases/{case_id}/uploads",
    response_model=list[UploadOut],
    summary="The documents of a case (metadata only; the content is one download each)",
)
async def list_uploads(case_id: uuid.UUID, request: Request, who: Who) -> list[UploadOut]:
    async with request.app.state.rt.sessionmaker() as session:
        case = await queries.get_case(session, case_id=case_id, who=who)
        return [_out(u) for u in await service.list_uploads(session, case.id)]


@router.get(
    "/cases/{case_id}/uploads/{upload_id}/content",
    response_class=StreamingResponse,
    summary="Download one document (audited: who, when, which)",
    responses={
        200: {
            "description": "the document's bytes, as uploaded (checksum in X-Checksum-SHA256)",
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}, "example": f"<{name} bytes>"}
                for t, name in r.ACCEPTED.items()
            },
        },
        404: _problem("no such case or document for the caller"),
    },
)
async def download(case_id: uuid.UUID, upload_id: uuid.UUID, request: Request, who: Who) -> StreamingResponse:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        up = await service.open_download(session, case_id=case_id, upload_id=upload_id, who=who)
    # RFC 6266 / 5987: a Chinese file name survives as filename*; the ASCII one is a fallback.
    disposition = f"attachment; filename=\"document\"; filename*=UTF-8''{quote(up.filename)}"
    return StreamingResponse(
        rt.ext.documents.read(up.id, up.chunks),
        media_type=up.content_type,
        headers={
            "Content-Disposition": disposition,
            "Content-Length": str(up.size),
            "ETag": f'"{up.sha256}"',
            "X-Checksum-SHA256": up.sha256,
        },
    )
