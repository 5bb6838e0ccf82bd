"""Tamper-evident audit trail (全程留痕), one hash-chained table per service database.

Every state change is recorded automatically (`outbox.enqueue` writes `event_entry` in the
same statement as the outbox row), and every read of unmasked personal data is recorded by
the endpoint that serves it (`record_unmasked_read`). Each entry carries who (principal,
roles, jurisdiction), what (action, subject, detail), when, from where (client IP) and the
correlation id.

Entries are chained: `hash = SHA-256(canonical JSON of the entry, including seq and
prev_hash)` (SM3 under LAWLINE_CRYPTO=sm, each hash naming its algorithm: see `chain`); `verify` recomputes the chain and reports the first edited, deleted (gap or
broken link) or reordered entry. Truncating the newest entries cannot be seen from inside
the table: anchor `head_hash` elsewhere (the verify endpoint returns it; a supervisor's
weekly print-out or an external notary service will do).

Appending and chaining are two steps. A state change's transaction only INSERTs its entry
(`seq`, `prev_hash`, `hash` still NULL) — no lock, so appends from concurrent requests never
queue behind one another (a global lock held to commit capped a service at ~70 state
changes/s). Each service runs `chain_forever`, which links committed entries within about one
interval of their commit; `verify` and the entries endpoint chain first, so they never see a
committed entry unchained. What that window leaves open — a database administrator editing an
entry in the fraction of a second before it is chained — is stated here rather than hidden.

The parts, each usable on its own:

- `store`: the table, the entry an append writes, `record` (caller's transaction);
- `chain`: `chain_pending` / `chain_now` / `chain_forever` and `verify` (caller's transaction);
- `router`: the admin endpoints and their policy;
- `cli`: `python -m libs.common.audit verify <service>|all [--url URL]` (exit 1 on a broken chain).

Who is acting lives in libs.common.audit_context (filled by the middleware and `authorize`),
apart from this package, so libs.common.auth does not import the audit router that imports it.
"""

from libs.common.audit.chain import (
    GENESIS,
    Verification,
    canonical,
    chain_forever,
    chain_now,
    chain_pending,
    entry_hash,
    verify,
)
from libs.common.audit.router import AUDIT_POLICY, audit_router
from libs.common.audit.store import (
    AUDIT,
    ENTRY_COLUMNS,
    audit_table,
    enabled,
    event_entry,
    new_entry,
    record,
    record_unmasked_read,
)
from libs.common.audit_context import RequestContext, current_context, request_context

__all__ = [
    "AUDIT",
    "AUDIT_POLICY",
    "ENTRY_COLUMNS",
    "GENESIS",
    "RequestContext",
    "Verification",
    "audit_router",
    "audit_table",
    "canonical",
    "chain_forever",
    "chain_now",
    "chain_pending",
    "current_context",
    "enabled",
    "entry_hash",
    "event_entry",
    "new_entry",
    "record",
    "record_unmasked_read",
    "request_context",
    "verify",
]
