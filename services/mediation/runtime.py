"""What the mediation service adds to the shared runtime (libs.common.app.Runtime): `rt.ext`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from libs.common.app import Runtime
from services.mediation.settings import MediationSettings


@dataclass
class MediationExtras:
    settings: MediationSettings
    # Set when a report to the police is made: the webhook delivery loop runs at once.
    webhook_wake: asyncio.Event = field(default_factory=asyncio.Event)


MediationRuntime = Runtime[MediationExtras]
