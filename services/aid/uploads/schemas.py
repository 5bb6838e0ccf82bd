"""Response models of a case's documents (metadata only: never the bytes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from libs.common.openapi_examples import examples
from services.aid.uploads import rules as r

Kind = Annotated[str, Field(json_schema_extra={"enum": sorted(r.KINDS)})]
_UPLOAD = {
    "id": "0b7c5d3e-2f1a-4b6c-9d8e-7f6a5b4c3d2e",
    "case_id": "3f1c2a9e-6b7d-4e21-9a3c-5d8e7f601234",
    "kind": "identity",
    "kind_name": "申请人身份证明",
    "filename": "身份证正反面.jpg",
    "content_type": "image/jpeg",
    "size": 482113,
    "sha256": "9f2c1e5b7a3d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9012a3b4c5d6e7f",
    "uploaded_by": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
    "uploaded_at": "2026-03-02T10:05:00+08:00",
    "duplicate": False,
}


class UploadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra=examples(_UPLOAD))

    id: uuid.UUID
    case_id: uuid.UUID
    kind: Kind
    kind_name: str = ""
    filename: str
    content_type: Annotated[str, Field(json_schema_extra={"enum": sorted(r.ACCEPTED)})]
    size: int
    sha256: str
    uploaded_by: str | None = None
    uploaded_at: datetime
    # True when these bytes were already on the case: the answer is that document, not a new one.
    duplicate: bool = False


class ChecklistItemOut(BaseModel):
    """One line of the 一次性告知 list (Art 43): supplied, or still missing."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra=examples(
            {
                "kind": "hardship_statement",
                "name": "经济困难状况说明表",
                "required": True,
                "supplied": False,
                "uploads": 0,
                "deferred": False,
            }
        ),
    )

    kind: Kind
    name: str
    required: bool
    supplied: bool
    uploads: int
    deferred: bool = False
