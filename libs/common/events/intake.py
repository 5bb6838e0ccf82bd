"""Events produced by the intake service. A published version is never edited: add …V2."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from libs.common.events import topics
from libs.common.events.examples import examples
from libs.common.events.payload import EventPayload

SOURCE = "/lawline/intake"


class IntakeEvent(EventPayload):
    """A payload intake produces, on the workorder topic."""

    SOURCE = SOURCE
    TOPIC = topics.WORKORDER


WORKORDER_CREATED = "cn.lawline.workorder.created.v1"
WORKORDER_CLOSED = "cn.lawline.workorder.closed.v1"

# Shared by the examples: one order of the demo city's 沁县 (140430); the requester is 某.
_ORDER_ID = "0f6e3a9c-27b8-4d15-9c4e-8a1b2c3d4e5f"
_ORDER = {"work_order_id": _ORDER_ID, "county_code": "140430"}
_CREATED = {
    **_ORDER,
    "number": "LW20260302000123",
    "channel": "hotline",
    "service_type": "legal_aid",
    "domain": "labor",
    "region_code": "140430003",
    "requester_name": "王某",
    "requester_phone_masked": "138****7890",
    "description": "工地拖欠三个月工资，想申请法律援助。",
    "special_groups": ["migrant_worker"],
    "urgency": "normal",
    "created_at": "2026-03-02T01:36:00Z",
    "follow_up_of": None,
    "parent_id": None,
    "parties": [
        {"side": "counterparty", "name_index": "b7e1c2d3a4f5e6d7", "id_index": None, "phone_index": None}
    ],
}


class PartyRefV1(BaseModel):
    """A party of the matter as blind indexes (libs.common.crypto.blind_index) — no raw name or ID."""

    side: str = "counterparty"  # requester | counterparty
    name_index: str | None = None
    id_index: str | None = None
    # Added (optional, issue #15): the phone as a blind index of libs.common.pii.phone_key, so
    # dispatch can tell two namesakes apart when no ID number is known. Older events lack it.
    phone_index: str | None = None


class WorkOrderCreatedV1(IntakeEvent):
    TYPE = WORKORDER_CREATED

    model_config = examples(_CREATED)

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


class WorkOrderClosedV1(IntakeEvent):
    TYPE = WORKORDER_CLOSED

    model_config = examples(
        {**_ORDER, "number": "LW20260302000123", "reason": "resolved", "closed_at": "2026-03-20T08:00:00Z"}
    )

    work_order_id: str
    number: str
    county_code: str
    reason: str
    closed_at: datetime


# ---- added with the intake issue (#3): every state change of a work order --------------
# v2 (#17): v1's `by` was a kind (auto | operator | merge) where every other intake event's `by`
# names who acted; v2 says `method` and `operator_username`. v1 is no longer sent; consumers
# accept both (WORKORDER_CLASSIFIED_TYPES).
WORKORDER_CLASSIFIED = "cn.lawline.workorder.classified.v2"
WORKORDER_CLASSIFIED_V1 = "cn.lawline.workorder.classified.v1"  # deprecated
WORKORDER_CLASSIFIED_TYPES = (WORKORDER_CLASSIFIED, WORKORDER_CLASSIFIED_V1)
WORKORDER_URGED = "cn.lawline.workorder.urged.v1"
WORKORDER_MERGED = "cn.lawline.workorder.merged.v1"
WORKORDER_UNMERGED = "cn.lawline.workorder.unmerged.v1"
WORKORDER_UPDATED = "cn.lawline.workorder.updated.v1"
WORKORDER_EVALUATED = "cn.lawline.workorder.evaluated.v1"
WORKORDER_CALLBACK_RECORDED = "cn.lawline.workorder.callback_recorded.v1"
WORKORDER_RETURN_VISIT_RECORDED = "cn.lawline.workorder.return_visit_recorded.v1"
# A hotline consultation answered on the call: counted, closed at once, never dispatched.
WORKORDER_ANSWERED_ON_CALL = "cn.lawline.workorder.answered_on_call.v1"


class WorkOrderClassifiedV1(IntakeEvent):
    """Deprecated (sent until issue #17; use WorkOrderClassifiedV2)."""

    TYPE = WORKORDER_CLASSIFIED_V1

    model_config = examples(
        {
            **_ORDER,
            "service_type": "legal_aid",
            "domain": "labor",
            "service_confidence": 0.82,
            "domain_confidence": 0.9,
            "evidence": {"service_type": ["法律援助"], "domain": ["拖欠", "工资"]},
            "special_groups": ["migrant_worker"],
            "urgency": "normal",
            "by": "auto",
            "operator": None,
            "classified_at": "2026-03-02T01:36:00Z",
        }
    )

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
    operator: str | None = None  # the operator's username; for a merge, the merge's `by` (or "auto")
    classified_at: datetime


class WorkOrderClassifiedV2(IntakeEvent):
    """The order's service type, domain, urgency or special groups were set: by the classifier
    at filing, an operator's override, or a more urgent re-filing merged into it."""

    TYPE = WORKORDER_CLASSIFIED

    model_config = examples(
        {
            **_ORDER,
            "service_type": "legal_aid",
            "domain": "labor",
            "service_confidence": 0.82,
            "domain_confidence": 0.9,
            "evidence": {"service_type": ["法律援助"], "domain": ["拖欠", "工资"]},
            "special_groups": ["migrant_worker"],
            "urgency": "normal",
            "method": "operator",
            "operator_username": "op_140430",
            "classified_at": "2026-03-02T01:36:00Z",
        }
    )

    work_order_id: str
    county_code: str
    service_type: str
    domain: str | None = None
    service_confidence: float | None = None
    domain_confidence: float | None = None
    evidence: dict[str, list[str]] = {}
    special_groups: list[str] = []
    urgency: str = "normal"
    method: Literal["auto", "operator", "merge"]
    operator_username: str | None = None  # who set it (operator) or merged (merge); null: automatic
    classified_at: datetime


class WorkOrderUrgedV1(IntakeEvent):
    """The same requester asked again about an open order (催办): no second dispatch."""

    TYPE = WORKORDER_URGED

    model_config = examples(
        {
            **_ORDER,
            "number": "LW20260302000123",
            "duplicate_order_id": "6a1d2e3f-4b5c-4d7e-8f90-a1b2c3d4e5f6",
            "urge_count": 1,
            "similarity": 0.91,
            "urged_at": "2026-03-05T02:00:00Z",
        }
    )

    work_order_id: str
    number: str
    county_code: str
    duplicate_order_id: str  # the new request, kept as a merged record
    urge_count: int
    similarity: float | None = None
    urged_at: datetime


class WorkOrderMergedV1(IntakeEvent):
    TYPE = WORKORDER_MERGED

    model_config = examples(
        {
            "work_order_id": "6a1d2e3f-4b5c-4d7e-8f90-a1b2c3d4e5f6",
            "into_work_order_id": _ORDER_ID,
            "county_code": "140430",
            "by": "operator_140430",
            "reason": "同一诉求重复来电",
            "merged_at": "2026-03-05T02:05:00Z",
        }
    )

    work_order_id: str  # the order that was merged away
    into_work_order_id: str
    county_code: str
    by: str  # "auto" or the staff member's username
    reason: str = ""
    merged_at: datetime


class WorkOrderUnmergedV1(IntakeEvent):
    TYPE = WORKORDER_UNMERGED

    model_config = examples(
        {
            "work_order_id": "6a1d2e3f-4b5c-4d7e-8f90-a1b2c3d4e5f6",
            "from_work_order_id": _ORDER_ID,
            "county_code": "140430",
            "by": "operator_140430",
            "reason": "诉求不同，误并",
            "unmerged_at": "2026-03-05T03:00:00Z",
        }
    )

    work_order_id: str
    from_work_order_id: str
    county_code: str
    by: str  # the staff member's username
    reason: str = ""
    unmerged_at: datetime


class WorkOrderUpdatedV1(IntakeEvent):
    TYPE = WORKORDER_UPDATED

    model_config = examples(
        {
            **_ORDER,
            "changed": {"region_code": "140430005", "requester_phone": "139****1234"},
            "by": "operator_140430",
            "updated_at": "2026-03-03T01:00:00Z",
        }
    )

    work_order_id: str
    county_code: str
    changed: dict[str, str | None]  # field -> new value (masked where personal)
    by: str  # the staff member's username
    updated_at: datetime


class WorkOrderEvaluatedV1(IntakeEvent):
    TYPE = WORKORDER_EVALUATED

    model_config = examples(
        {
            **_ORDER,
            "number": "LW20260302000123",
            "score": 5,
            "satisfied": True,
            "via": "web",
            "evaluated_at": "2026-03-21T04:00:00Z",
        }
    )

    work_order_id: str
    number: str
    county_code: str
    score: int  # 1..5
    satisfied: bool
    via: str  # web | operator
    evaluated_at: datetime


class CallbackRecordedV1(IntakeEvent):
    TYPES = (WORKORDER_CALLBACK_RECORDED, WORKORDER_RETURN_VISIT_RECORDED)

    model_config = examples(
        {
            **_ORDER,
            "task_id": "5b2d7c1e-8f3a-4d6b-9c0e-1a2b3c4d5e6f",
            "kind": "callback",
            "outcome": "reached",
            "attempt": 1,
            "completed": True,
            "recorded_at": "2026-03-20T02:05:00Z",
        }
    )

    work_order_id: str
    county_code: str
    task_id: str
    kind: str  # callback | return_visit
    outcome: str
    attempt: int
    completed: bool
    recorded_at: datetime


class WorkOrderAnsweredOnCallV1(IntakeEvent):
    TYPE = WORKORDER_ANSWERED_ON_CALL

    model_config = examples(
        {
            **_ORDER,
            "number": "LW20260302000124",
            "channel": "hotline",
            "service_type": "consultation",
            "domain": "marriage",
            "region_code": "140430003",
            "operator_id": "op-017",
            "answered_at": "2026-03-02T01:50:00Z",
        }
    )

    work_order_id: str
    number: str
    channel: str
    service_type: str
    domain: str | None = None
    region_code: str
    county_code: str
    operator_id: str | None = None  # the hotline seat code telephony sends (e.g. "op-017"), not a UUID
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

    TYPE = WORKORDER_ROUTING_REQUESTED

    model_config = examples({**_CREATED, "attempt": 1, "requested_at": "2026-03-02T01:46:00Z"})

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

    TYPE = WORKORDER_TRANSFERRED

    model_config = examples(
        {
            **_CREATED,
            "county_code": "140429",
            "region_code": "140429100",
            "from_region_code": "140430003",
            "from_county_code": "140430",
            "reason": "用工单位在武乡县，由当地办理",
            "by": "operator_140430",
            "transferred_at": "2026-03-02T03:00:00Z",
        }
    )

    from_region_code: str
    from_county_code: str
    reason: str
    by: str  # the staff member's username
    transferred_at: datetime
