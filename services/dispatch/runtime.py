"""What the dispatch service adds to the shared runtime (libs.common.app.Runtime): `rt.ext`."""

from __future__ import annotations

from dataclasses import dataclass

from libs.common.app import Runtime
from services.dispatch.stream import OfferHub


@dataclass
class DispatchExtras:
    offer_hub: OfferHub  # the LISTEN connection behind the counter-staff inbox stream (SSE)


DispatchRuntime = Runtime[DispatchExtras]
