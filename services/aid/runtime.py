"""What the aid service adds to the shared runtime (libs.common.app.Runtime): `rt.ext`."""

from __future__ import annotations

from dataclasses import dataclass

from libs.common.app import Runtime
from services.aid.settings import AidRules


@dataclass
class AidExtras:
    rules: AidRules  # services/aid/rules.yaml, read once at start


AidRuntime = Runtime[AidExtras]
