"""What the aid service adds to the shared runtime (libs.common.app.Runtime): `rt.ext`."""

from __future__ import annotations

from dataclasses import dataclass

from libs.common.app import Runtime
from services.aid.settings import AidRules
from services.aid.uploads.rules import UploadLimits
from services.aid.uploads.store import DocumentStore


@dataclass
class AidExtras:
    rules: AidRules  # services/aid/rules.yaml, read once at start
    documents: DocumentStore  # where uploaded documents' bytes live (services/aid/uploads/store.py)
    upload_limits: UploadLimits


AidRuntime = Runtime[AidExtras]
