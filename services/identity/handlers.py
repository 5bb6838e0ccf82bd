"""Identity consumes no events: it is the source of the identity topic."""

from __future__ import annotations

from libs.common.app import Runtime
from libs.common.inbox import Handler


def build_handlers(rt: Runtime) -> dict[str, Handler]:
    return {}
