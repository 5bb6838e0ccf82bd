"""Who is acting in the current request, for the audit trail (libs.common.audit).

Its own module, importing nothing of lawline: the hardening middleware fills in the IP,
`auth.authorize` the principal, and the audit store reads both. Kept apart from the audit
package (whose router needs `auth.allow`), so auth can import it at the top without a cycle.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field


@dataclass
class RequestContext:
    """Filled by the middleware (IP) and by `authorize` (principal) for one request."""

    ip: str | None = None
    actor: str = "anonymous"
    actor_kind: str = "anonymous"
    roles: list[str] = field(default_factory=list)
    region: str = ""


request_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "audit_request_context", default=None
)


def current_context(service: str) -> RequestContext:
    ctx = request_context.get()
    if ctx is not None:
        return ctx
    # No HTTP request: an event handler or a background job of the service itself.
    return RequestContext(actor=f"system:{service}", actor_kind="system")
