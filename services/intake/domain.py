"""Intake's pure rules: order numbers, the status life cycle, duplicates (并单), the closed
loop (回拨 before 办结, 回访 after an unsatisfied rating), and how downstream events read on
the citizen-visible timeline. No I/O."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from libs.common.clock import CHINA_TZ
from libs.common.events import dispatch as dispatch_events
from services.intake import timeline
from services.intake.validation import (  # re-exported: the rest of the service imports them from here
    CHANNELS,
    SERVICE_TYPES,
    URGENCY_RANK,
    normalise_phone,
    resolve_region,
)

__all__ = ["CHANNELS", "SERVICE_TYPES", "normalise_phone", "resolve_region"]

# Terminal statuses: nothing more happens to the order itself.
CLOSED = "closed"
MERGED = "merged"
# 撤销: filed by mistake (a test call, the wrong person, twice by hand) — not 办结: it counts in no
# closure rate, and nobody was helped by it.
CANCELLED = "cancelled"
TERMINAL = frozenset({CLOSED, MERGED, CANCELLED})
# Before anyone took it on: once a handler accepted or a case is open, it is closed or transferred.
CANCELLABLE = ("received", "offered", "rerouting", "escalated")
CALLBACK_OUTCOMES = {
    "reached": "已联系上，已告知办理结果",
    "no_answer": "无人接听",
    "busy": "占线",
    "wrong_number": "号码错误",
    "refused": "拒绝沟通",
}
# 12345 practice: after three failed callback attempts the order may be closed anyway, with the record.
MAX_FAILED_CALLBACKS = 3
UNSATISFIED_MAX_SCORE = 2  # GB/T 33358: every "unsatisfied" rating gets a return visit


def format_number(created_at: datetime, seq: int) -> str:
    """Readable on the phone: LW + local date + 6-digit sequence, e.g. LW20261124000123."""
    return f"LW{created_at.astimezone(CHINA_TZ):%Y%m%d}{seq % 1_000_000:06d}"


# ---- status -----------------------------------------------------------------------------
# Intake's status of an open order follows dispatch (and the case services) both ways: a 退单,
# a withdrawal or an escalation moves it back from 已接单. Dispatch numbers its events of each
# order (CloudEvents `sequence`): an older one — it came by the partition of the county the
# order left — reaches the timeline, never the status (`stale`).
RECEIVED = "received"
OFFERED = "offered"
REROUTING = "rerouting"  # 重新分派中: returned, rejected, timed out, transferred or withdrawn
ESCALATED = "escalated"
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"  # a legal-aid or mediation case is open for it
OPEN_STATUSES = (RECEIVED, OFFERED, REROUTING, ESCALATED, ASSIGNED, IN_PROGRESS)
STATUSES = (*OPEN_STATUSES, CLOSED, MERGED, CANCELLED)

# What a downstream event says about the order (None: nothing for its status).
SIGNAL_BY_EVENT = {
    dispatch_events.OFFERED: "offered",
    dispatch_events.ASSIGNED: "assigned",
    dispatch_events.ESCALATED: "escalated",
    # Every way an offer or an assignment ends without the matter being done: rejected, timed
    # out, 退单 (returned), 转办 (transferred), withdrawn (reclassified, merged, moved county).
    dispatch_events.REJECTED: "rerouting",
    "cn.lawline.aid.case_opened.v1": "case_opened",
    "cn.lawline.mediation.case_opened.v1": "case_opened",
}
# dispatch.routing_confirmed says where dispatch has the order; its "new" (not decided yet) and
# "closed" (intake closes its own orders, after the callback) say nothing for the status here.
SIGNAL_BY_DISPATCH_STATE = {"offered": "offered", "assigned": "assigned", "escalated": "escalated"}

_BEFORE_CASE = (RECEIVED, OFFERED, REROUTING, ESCALATED, ASSIGNED)
# (current status, signal) → next status. A pair not listed keeps the status; closed and merged
# are never listed: dispatch's and the case services' events never change a terminal order.
TRANSITIONS: dict[tuple[str, str], str] = {
    **{(s, "offered"): OFFERED for s in _BEFORE_CASE},
    **{(s, "assigned"): ASSIGNED for s in _BEFORE_CASE},
    **{(s, "escalated"): ESCALATED for s in OPEN_STATUSES},
    **{(s, "rerouting"): REROUTING for s in OPEN_STATUSES},
    **{(s, "case_opened"): IN_PROGRESS for s in OPEN_STATUSES},
    # The case's own topic overtook dispatch's: its case_opened came before the offered/assigned
    # that led to it. Those late ones must not move the order back (a new offer after a case
    # always follows a withdrawal, which has left in_progress already).
    (IN_PROGRESS, "offered"): IN_PROGRESS,
    (IN_PROGRESS, "assigned"): IN_PROGRESS,
}


def signal_of(event_type: str, data: dict | None = None) -> str | None:
    if event_type == dispatch_events.ROUTING_CONFIRMED:
        return SIGNAL_BY_DISPATCH_STATE.get(str((data or {}).get("status") or ""))
    return SIGNAL_BY_EVENT.get(event_type)


def transition(current: str, signal: str | None, *, stale: bool = False, handler_current: bool = True) -> str:
    """`stale`: a dispatch event older than one already folded. `handler_current`: for a case
    opened, whether its handler still has the order (a case opened for someone who has since
    returned it is late news)."""
    if signal is None or stale or (signal == "case_opened" and not handler_current):
        return current
    return TRANSITIONS.get((current, signal), current)


def next_status(
    current: str,
    event_type: str,
    data: dict | None = None,
    *,
    stale: bool = False,
    handler_current: bool = True,
) -> str:
    return transition(current, signal_of(event_type, data), stale=stale, handler_current=handler_current)


def status_after_unmerge(*, dispatched: bool) -> str:
    """An order dispatch had goes back to it to be offered again; one merged at intake before it
    was ever announced starts at received (it is announced now)."""
    return REROUTING if dispatched else RECEIVED


# ---- order handlers (access follows the work) -------------------------------------------
HANDLER_OFFERED, HANDLER_ACCEPTED, HANDLER_ENDED = "offered", "accepted", "ended"


def handler_state(event_type: str) -> str | None:
    """How a dispatch event changes its assignment's holder (None: not at all)."""
    return {
        dispatch_events.OFFERED: HANDLER_OFFERED,
        dispatch_events.ASSIGNED: HANDLER_ACCEPTED,
        dispatch_events.REJECTED: HANDLER_ENDED,
    }.get(event_type)


# ---- merging (并单) raises the surviving order ------------------------------------------
def merged_classification(
    *, urgency: str, groups: list[str], merged_urgency: str, merged_groups: list[str]
) -> tuple[str, list[str]]:
    """The survivor of a merge takes the more urgent of the two urgencies and both orders'
    special groups: a re-filing that says "now it is urgent" or "I am disabled" must not lose
    that by being merged (四优先 follow the person, not the first order)."""
    more = merged_urgency if URGENCY_RANK.get(merged_urgency, 0) > URGENCY_RANK.get(urgency, 0) else urgency
    return more, sorted(set(groups) | set(merged_groups))


# ---- reconciliation with dispatch (issue #14) -------------------------------------------
DISPATCH_EVENT_PREFIX = "cn.lawline.dispatch."


def acknowledges(event_type: str) -> bool:
    """Dispatch's first event naming an order — offered, escalated, routing_confirmed, any — is
    its acknowledgement that it has the order."""
    return event_type.startswith(DISPATCH_EVENT_PREFIX)


@dataclass(frozen=True)
class ReconcilePolicy:
    after: timedelta  # announced this long ago without an acknowledgement: announce again
    backoff: timedelta  # then wait this long before the next time, doubling each time …
    backoff_max: timedelta  # … up to this; never giving up while the order is unacknowledged


@dataclass(frozen=True)
class AckWait:
    """An order as the reconciliation sweep sees it."""

    status: str
    dispatched: bool  # announced to dispatch (workorder.created)
    announced_at: datetime | None
    routed_at: datetime | None  # dispatch's acknowledgement; None: nothing heard yet
    reemits: int = 0
    last_reemit_at: datetime | None = None


def awaits_ack(o: AckWait) -> bool:
    """Announced, open and unacknowledged (the same predicate as the sweep's partial index)."""
    return o.dispatched and o.routed_at is None and o.status not in TERMINAL and o.announced_at is not None


def reemit_backoff(reemits: int, policy: ReconcilePolicy) -> timedelta:
    """The wait after the `reemits`-th re-announcement: 2, 4, 8 … minutes (by default), capped."""
    if reemits <= 0:
        return policy.after
    return min(policy.backoff * 2 ** min(reemits - 1, 30), policy.backoff_max)


def next_check_at(o: AckWait, policy: ReconcilePolicy) -> datetime | None:
    """When the order is next due for re-announcement; None when it needs none."""
    if not awaits_ack(o) or o.announced_at is None:  # awaiting an ack implies announced_at
        return None
    if o.reemits <= 0 or o.last_reemit_at is None:
        return o.announced_at + policy.after
    return o.last_reemit_at + reemit_backoff(o.reemits, policy)


def due_for_reemit(o: AckWait, now: datetime, policy: ReconcilePolicy) -> bool:
    at = next_check_at(o, policy)
    return at is not None and at <= now


# ---- closed loop ------------------------------------------------------------------------
def callback_done(outcomes: list[str]) -> bool:
    """The callback counts as recorded once the citizen was reached, or after three failed tries."""
    return "reached" in outcomes or len(outcomes) >= MAX_FAILED_CALLBACKS


@dataclass(frozen=True)
class Blocker:
    code: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.zh, "message_en": self.en}


def closure_blockers(
    *, status: str, callback_required: bool, callback_outcomes: list[str], open_children: list[str]
) -> list[Blocker]:
    """Everything that must happen before 办结 — all of it at once (一次性告知)."""
    if status in TERMINAL:
        return [Blocker("already_terminal", f"工单已是{status}状态", f"the order is already {status}")]
    out = []
    if callback_required and not callback_done(callback_outcomes):
        out.append(
            Blocker(
                "callback_missing",
                f"尚未记录回拨结果（已尝试 {len(callback_outcomes)} 次；需联系上求助人或满 {MAX_FAILED_CALLBACKS} 次未接通）",
                f"the callback is not recorded yet ({len(callback_outcomes)} attempts; the citizen must be "
                f"reached, or {MAX_FAILED_CALLBACKS} attempts failed)",
            )
        )
    if open_children:
        out.append(
            Blocker(
                "children_open",
                f"子工单未办结：{'、'.join(open_children)}",
                f"child orders still open: {', '.join(open_children)}",
            )
        )
    return out


def needs_return_visit(score: int) -> bool:
    return score <= UNSATISFIED_MAX_SCORE


# ---- duplicates (并单) ------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    id: str
    status: str
    service_type: str
    domain: str | None
    description: str
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class DuplicateDecision:
    kind: str  # "urge" (link to the open order, no new dispatch) | "follow_up" (new order) | "new"
    target_id: str | None = None
    similarity: float = 0.0


def same_matter(
    *, service_type: str, domain: str | None, candidate: Candidate, similarity: float, threshold: float
) -> bool:
    """Same requester is given; same matter = same domain (or same service type) and similar text."""
    same_kind = (domain is not None and domain != "other" and domain == candidate.domain) or (
        service_type == candidate.service_type
    )
    return same_kind and similarity >= threshold


def duplicate_decision(
    *,
    now: datetime,
    service_type: str,
    domain: str | None,
    candidates: list[tuple[Candidate, float]],
    window: timedelta,
    follow_up_window: timedelta,
    threshold: float,
) -> DuplicateDecision:
    """Open order on the same matter within the window → urge (催办) on it; a closed one within the
    follow-up window → a new order that names it (`follow_up_of`), so it goes back to its handler."""
    best: DuplicateDecision | None = None
    for cand, sim in sorted(candidates, key=lambda c: c[0].created_at, reverse=True):
        if not same_matter(
            service_type=service_type, domain=domain, candidate=cand, similarity=sim, threshold=threshold
        ):
            continue
        if cand.status not in TERMINAL and now - cand.created_at <= window:
            return DuplicateDecision("urge", cand.id, sim)
        if cand.status == CLOSED and cand.closed_at and now - cand.closed_at <= follow_up_window:
            best = best or DuplicateDecision("follow_up", cand.id, sim)
    return best or DuplicateDecision("new")


# ---- a new request: what it is, and which of three outcomes it has -------------------------
class Resolved(NamedTuple):
    """What the new order records of its kind: the client's word where it gave one, the
    classifier's otherwise (with how it was decided, for the explanation and the audit)."""

    service_type: str
    domain: str
    special_groups: list[str]
    urgency: str
    auto: bool  # the classifier chose the service type or the domain: workorder.classified is told
    classification: dict[str, Any]
    uncertain: bool  # the classifier chose with confidence < 0.5: the operator is asked to check


# Below this the classifier's choice is flagged for the operator to check. On the held-out
# requests (services/intake/classifier) domains chosen below 0.5 were right 69 % of the time
# (54/78), at or above it 94 % (109/116).
UNCERTAIN_BELOW = 0.5


def resolve_classification(
    *,
    service_type: str | None,
    domain: str | None,
    special_groups: list[str],
    urgency: str | None,
    result: Any,  # services.intake.classify.Classification
    groups_from_id: set[str],
    answered_on_call: bool,
) -> Resolved:
    auto = service_type is None or domain is None
    # Only what the classifier chose can be uncertain: a type the client gave is the client's word.
    chosen = ((service_type, result.service_confidence), (domain, result.domain_confidence))
    by = "auto" if service_type is None and domain is None else "client" if not auto else "mixed"
    classification = result.as_dict() | {"by": by, "detected_special_groups": result.special_groups}
    return Resolved(
        # An answer given on the call is a consultation, whatever the call was about.
        service_type="consultation" if answered_on_call else service_type or result.service_type,
        domain=domain or result.domain,
        special_groups=sorted(set(special_groups) | set(result.special_groups) | groups_from_id),
        urgency=urgency or result.urgency,
        auto=auto,
        classification=classification,
        uncertain=any(conf < UNCERTAIN_BELOW for given, conf in chosen if given is None),
    )


def outcome(decision: DuplicateDecision, *, answered_on_call: bool) -> str:
    """ "answered" (closed on the call, never dispatched), "urge" (并单 into an open order, no new
    dispatch) or "new" (dispatched; a follow-up of a closed order is a new one that names it)."""
    if answered_on_call:
        return "answered"
    return "urge" if decision.kind == "urge" else "new"


UNCERTAIN_WARNING = {
    "code": "classification_uncertain",
    "message": "自动分类把握不大，请核对服务类型和法律领域",
    "message_en": "automatic classification is uncertain: please check service type and domain",
}


def follow_up_warning(target_id: str | None) -> dict[str, Any]:
    return {
        "code": "follow_up",
        "message": "该求助人近期有同一事项的已办结工单，本单作为后续工单交原承办人",
        "message_en": "a closed order on the same matter exists: this is a follow-up to it",
        "work_order_id": target_id,
    }


# ---- citizen tracking -------------------------------------------------------------------
def suffix_matches(phone: str | None, suffix: str | None) -> bool:
    """Constant-time: the response time must not tell which digits were right."""
    want = (phone or "").replace("-", "")[-4:]
    got = (suffix or "").strip()
    same = hmac.compare_digest(want.encode().ljust(4, b"\0"), got.encode()[:4].ljust(4, b"\0"))
    return same and len(got) == 4 and len(want) == 4


# ---- timeline ---------------------------------------------------------------------------
def timeline_text(event_type: str, data: dict) -> tuple[str, str]:
    """(kind, citizen-facing Chinese text) — never a staff member's phone or personal detail.
    Whether the entry is public is `timeline.step_for(...).public`."""
    step = timeline.step_for(event_type, data)
    return step.kind, step.text
