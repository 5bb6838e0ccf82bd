"""Events produced by the intake service. A published version is never edited: add …V2."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

SOURCE = "/lawline/intake"
WORKORDER_CREATED = "cn.lawline.workorder.created.v1"
WORKORDER_CLOSED = "cn.lawline.workorder.closed.v1"


class PartyRefV1(BaseModel):
    """A party of the matter as blind indexes (libs.common.crypto.blind_index) — no raw name or ID."""

    side: str = "counterparty"  # requester | counterparty
    name_index: str | None = None
    id_index: str | None = None
    # Added (optional, issue #15): the phone as a blind index of libs.common.pii.phone_key, so
    # dispatch can tell two namesakes apart when no ID number is known. Older events lack it.
    phone_index: str | None = None


class WorkOrderCreatedV1(BaseModel):
    work_order_id: str
    number: str
    channel: str
    service_type: str
    domain: str | None = None
    region_code: str
    county_code: str
    requester_name: str
    requester_phone_masked: str | None = None  # never the full number in an event
    description: str
    special_groups: list[str] = []
    urgency: str = "normal"
    created_at: datetime
    follow_up_of: str | None = None
    parent_id: str | None = None  # one call, several orders: the order this one was split from
    # Added (optional): parties for dispatch's conflict-of-interest check, as blind indexes only.
    parties: list[PartyRefV1] = []


class WorkOrderClosedV1(BaseModel):
    work_order_id: str
    number: str
    county_code: str
    reason: str
    closed_at: datetime


# ---- added with the intake issue (#3): every state change of a work order --------------
WORKORDER_CLASSIFIED = "cn.lawline.workorder.classified.v1"
WORKORDER_URGED = "cn.lawline.workorder.urged.v1"
WORKORDER_MERGED = "cn.lawline.workorder.merged.v1"
WORKORDER_UNMERGED = "cn.lawline.workorder.unmerged.v1"
WORKORDER_UPDATED = "cn.lawline.workorder.updated.v1"
WORKORDER_EVALUATED = "cn.lawline.workorder.evaluated.v1"
WORKORDER_CALLBACK_RECORDED = "cn.lawline.workorder.callback_recorded.v1"
WORKORDER_RETURN_VISIT_RECORDED = "cn.lawline.workorder.return_visit_recorded.v1"
# A hotline consultation answered on the call: counted, closed at once, never dispatched.
WORKORDER_ANSWERED_ON_CALL = "cn.lawline.workorder.answered_on_call.v1"


class WorkOrderClassifiedV1(BaseModel):
    work_order_id: str
    county_code: str
    service_type: str
    domain: str | None = None
    service_confidence: float | None = None
    domain_confidence: float | None = None
    evidence: dict[str, list[str]] = {}
    special_groups: list[str] = []
    urgency: str = "normal"
    by: str  # auto | operator | merge (a more urgent or special-group re-filing merged into it)
    operator: str | None = None
    classified_at: datetime


class WorkOrderUrgedV1(BaseModel):
    """The same requester asked again about an open order (催办): no second dispatch."""

    work_order_id: str
    number: str
    county_code: str
    duplicate_order_id: str  # the new request, kept as a merged record
    urge_count: int
    similarity: float | None = None
    urged_at: datetime


class WorkOrderMergedV1(BaseModel):
    work_order_id: str  # the order that was merged away
    into_work_order_id: str
    county_code: str
    by: str  # auto | staff subject
    reason: str = ""
    merged_at: datetime


class WorkOrderUnmergedV1(BaseModel):
    work_order_id: str
    from_work_order_id: str
    county_code: str
    by: str
    reason: str = ""
    unmerged_at: datetime


class WorkOrderUpdatedV1(BaseModel):
    work_order_id: str
    county_code: str
    changed: dict[str, str | None]  # field -> new value (masked where personal)
    by: str
    updated_at: datetime


class WorkOrderEvaluatedV1(BaseModel):
    work_order_id: str
    number: str
    county_code: str
    score: int  # 1..5
    satisfied: bool
    via: str  # web | operator
    evaluated_at: datetime


class CallbackRecordedV1(BaseModel):
    work_order_id: str
    county_code: str
    task_id: str
    kind: str  # callback | return_visit
    outcome: str
    attempt: int
    completed: bool
    recorded_at: datetime


class WorkOrderAnsweredOnCallV1(BaseModel):
    work_order_id: str
    number: str
    channel: str
    service_type: str
    domain: str | None = None
    region_code: str
    county_code: str
    operator_id: str | None = None
    answered_at: datetime


# ---- added with issue #14: the end-to-end reconciliation with dispatch -----------------
# An order announced to dispatch that dispatch has not acknowledged (no dispatch event naming
# it) is announced again, with backoff, until it is: a lost `created` cannot lose the order.
WORKORDER_ROUTING_REQUESTED = "cn.lawline.workorder.routing_requested.v1"


class WorkOrderRoutingRequestedV1(WorkOrderCreatedV1):
    """Intake heard nothing from dispatch about an announced order: route it if you do not have it,
    otherwise say where it stands (`dispatch.routing_confirmed`) — never route it twice.

    Every field of `workorder.created` (from the order's state now), plus which re-announcement
    this is."""

    attempt: int  # 1 for the first re-announcement, then 2, 3 …
    requested_at: datetime


# ---- added with issue #15: the order's whole life reaches dispatch ----------------------
# Every workorder event carries the order's revision in the CloudEvents `sequence` extension
# (libs.common.events.envelope.SEQUENCE): the key is the county code, so an order moved to
# another county sends its later events by another partition, and only the revision tells an
# older event from a newer one.
WORKORDER_TRANSFERRED = "cn.lawline.workorder.transferred.v1"


class WorkOrderTransferredV1(WorkOrderCreatedV1):
    """Staff moved an open order to another county (跨县转办): route it there, withdraw it here.

    Every field of `workorder.created` as the order is now (in its new county: keyed by it, so
    every later event of the order follows this one in the new county's partition), plus where
    it came from and why. A consumer that never heard of the order takes it from this alone."""

    from_region_code: str
    from_county_code: str
    reason: str
    by: str
    transferred_at: datetime
