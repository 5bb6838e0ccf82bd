"""Dispatch follows the order's whole life: every change intake announces after the first
routing — reclassification, urgency or special groups, a corrected region, a move to another
county (跨县转办), a merge (并单) and its undoing — updates dispatch's copy of the order and
re-decides where needed (order_changes.py says what), with a decision row and its reason each
time. Keyword-only; never commits — the caller owns the transaction.

Safe against redelivery (the inbox), against concurrent handlers (the order's row is locked
first) and against order across partitions: the Kafka key is the county code, so an order moved
to another county sends its later events by another partition. Intake numbers its events of
each order (CloudEvents `sequence`); dispatch keeps the newest it applied (`intake_seq`) and an
older one changes nothing — the move itself carries the whole order, so what it superseded is in
it already."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import intake
from libs.common.events.envelope import Envelope
from libs.common.orm import present
from services.dispatch import domain
from services.dispatch import order_changes as oc
from services.dispatch.models import Assignment, OrderSnapshot
from services.dispatch.network_cache import RoutingNetwork, routing_network
from services.dispatch.offers import _give_back
from services.dispatch.policy import Policy, default_policy
from services.dispatch.recompute import recompute_order
from services.dispatch.service import insert_order, offer_next, order_view
from services.dispatch.store import insert_decision

# Why an offer or assignment was withdrawn, by cause (dispatch.rejected's reason_code; these
# are service.LIFECYCLE_CODES: the person did not refuse, so they stay candidates).
WITHDRAWN_CODE = {
    "reclassified": "reclassified",
    "reconciled": "reclassified",
    "region_corrected": "region_corrected",
    "county_transfer": "county_transfer",
    "merged": "merged",
}
# An offer or assignment ended because its HOLDER changed (deactivated, or a role that cannot act
# on it): not a lifecycle code — they are no candidate for the order any more.
HOLDER_CHANGED = "holder_changed"


# ---- the events ---------------------------------------------------------------------------
def made_at_filing(data: intake.WorkOrderClassifiedV2) -> bool:
    """The classifier's verdict when the order was filed (`auto`: intake's create path is its
    only sender). It precedes the order's `created`, which routes with the same facts — so, not
    yet routed, on_classified would find nothing to change."""
    return data.method == "auto"


async def on_classified(
    session: AsyncSession,
    *,
    event: Envelope,
    data: intake.WorkOrderClassifiedV2 | intake.WorkOrderClassifiedV1,
    now: datetime,
    policy: Policy | None = None,
) -> None:
    """Service type, domain, urgency or special groups changed (an operator's override, or a
    more urgent re-filing merged into this order)."""
    order = await _take(session, event, data.work_order_id)
    if order is None:
        return  # not routed yet: the created (or routing_requested) that follows carries the same facts
    after = dataclasses.replace(
        facts_of(order),
        service_type=data.service_type or order.service_type,
        domain=data.domain,
        urgency=data.urgency or "normal",
        special_groups=tuple(sorted(data.special_groups)),
    )
    await apply_facts(session, order=order, after=after, now=now, cause="reclassified", policy=policy)


async def on_updated(
    session: AsyncSession,
    *,
    event: Envelope,
    data: intake.WorkOrderUpdatedV1,
    now: datetime,
    policy: Policy | None = None,
) -> None:
    """A correction; only the region matters to routing (within the county: intake refuses
    anything else as a correction — that is a county transfer)."""
    order = await _take(session, event, data.work_order_id)
    region = data.changed.get("region_code")
    if order is None or not region:
        return
    after = dataclasses.replace(facts_of(order), region_code=region)
    await apply_facts(session, order=order, after=after, now=now, cause="region_corrected", policy=policy)


async def on_transferred(
    session: AsyncSession,
    *,
    event: Envelope,
    data: intake.WorkOrderTransferredV1,
    now: datetime,
    policy: Policy | None = None,
) -> None:
    """跨县转办: withdraw in the old county, route in the new one."""
    order = await _locked(session, data.work_order_id)
    if order is None:
        # Never heard of it (its created is still on the old county's partition): the move
        # carries the whole order — route it where it is now; the late created changes nothing.
        policy = policy or default_policy()
        inserted, network = await insert_order(session, event=event, data=data, now=now, policy=policy)
        if inserted is not None:
            await offer_next(
                session, order=inserted, now=now, policy=policy, network=network, tried=frozenset()
            )
            return
        # The insert met the created being handled at this moment by the old county's lane and
        # waited for its commit: the order is there now, and this move is newer. Apply it.
        order = present(await _locked(session, data.work_order_id), OrderSnapshot, data.work_order_id)
    if not _fresh(order, event):
        return
    await move_county(session, order=order, after=payload_facts(data), now=now, policy=policy)


async def on_merged(
    session: AsyncSession, *, event: Envelope, data: intake.WorkOrderMergedV1, now: datetime
) -> None:
    """The merged order's offer or assignment is withdrawn — one matter, one handler — and its
    copy closed as merged (its clocks stop). The survivor is raised by intake's classified."""
    order = await _take(session, event, data.work_order_id)
    if order is None or order.status in ("closed", "merged"):
        return
    policy = default_policy()
    into = await session.get(OrderSnapshot, uuid.UUID(data.into_work_order_id))
    survivor = into.number if into else data.into_work_order_id
    why = f"并入工单 {survivor}：同一事项不由两人办理，撤回派单并释放负荷 | merged into {survivor}: withdrawn"
    current = await _current(session, order.work_order_id)
    await _note(
        session,
        order,
        rule="merged/withdraw" if current else "merged/close",
        reason=why,
        now=now,
        policy=policy,
    )
    if current is not None:
        order = await _give_back(session, a=current, now=now, status="withdrawn", code="merged", note=why)
    order.status, order.closed_at = "merged", data.merged_at


async def on_unmerged(
    session: AsyncSession,
    *,
    event: Envelope,
    data: intake.WorkOrderUnmergedV1,
    now: datetime,
    policy: Policy | None = None,
) -> None:
    """Back to routing: the order is its own matter again."""
    order = await _take(session, event, data.work_order_id)
    if order is None or order.status != "merged":
        return  # never routed (intake announces it now as created), or nothing to re-open
    await reopen(session, order=order, now=now, policy=policy, cause="unmerged")


async def converge(
    session: AsyncSession,
    *,
    event: Envelope,
    data: intake.WorkOrderRoutingRequestedV1,
    now: datetime,
    policy: Policy | None = None,
) -> None:
    """intake's routing_requested for an order dispatch has: it is the order as intake has it
    now; if it is newer than what dispatch applied, follow it (a move, a re-opening, new facts)."""
    order = await _take(session, event, data.work_order_id)
    if order is None:
        return
    after = payload_facts(data)
    if after.county_code != order.county_code:
        await move_county(session, order=order, after=after, now=now, policy=policy)
    elif order.status == "merged":
        await reopen(session, order=order, now=now, policy=policy, cause="reconciled")
    else:
        await apply_facts(session, order=order, after=after, now=now, cause="reconciled", policy=policy)


# ---- the use cases ------------------------------------------------------------------------
async def apply_facts(
    session: AsyncSession,
    *,
    order: OrderSnapshot,
    after: oc.Facts,
    now: datetime,
    cause: str,
    policy: Policy | None,
) -> None:
    """New facts of the order (same county): update the copy, recompute the clocks, re-decide."""
    before = facts_of(order)
    change = oc.diff(before, after)
    if not change.any:
        return
    policy = policy or default_policy()
    network = await routing_network(session, county_code=order.county_code, now=now)
    before_view = await order_view(session, order=order)
    _set_facts(order, after)
    if change.clocks:
        recompute_order(order, now=now, policy=policy, calendar=network.calendar)
    if order.status in ("closed", "merged"):
        return  # nothing to re-decide: the facts are kept for the record
    view = dataclasses.replace(
        before_view,
        service_type=after.service_type,
        domain=after.domain,
        urgency=after.urgency,
        special_groups=after.special_groups,
        region_code=after.region_code,
    )
    current = await _current(session, order.work_order_id)
    fit = None if current is None else await _holder_fit(session, network, current, view, policy, now)
    rule_changed = oc.rule_for(before_view, policy).id != oc.rule_for(view, policy).id
    action = oc.redecide(
        status=order.status, holder_fit=fit, has_holder=current is not None, rule_changed=rule_changed
    )
    what = f"{oc.CAUSE_ZH[cause]}（{change.describe(before, after)}）"
    await _carry_out(
        session, order, action, what=what, cause=cause, current=current, fit=fit, now=now, policy=policy
    )


async def _holder_fit(
    session: AsyncSession,
    network: RoutingNetwork,
    current: Assignment,
    view: domain.OrderView,
    policy: Policy,
    now: datetime,
) -> str | None:
    """None when the current holder still fits the new facts, else why not."""
    staff = await network.staff(session, now=now, also=[str(current.staff_id)])
    person = next((s for s in staff if s.id == str(current.staff_id)), None)
    taken = current.status == "accepted" or current.kind == "transfer"
    return "已停用 | inactive" if person is None else oc.still_fits(person, view, policy, taken=taken)


async def _carry_out(
    session: AsyncSession,
    order: OrderSnapshot,
    action: str,
    *,
    what: str,
    cause: str,
    current: Assignment | None,
    fit: str | None,
    now: datetime,
    policy: Policy,
) -> None:
    """The re-decision (oc.redecide) done and noted with its reason."""
    # KEEP and WITHDRAW come only with a holder (oc.redecide): `current` is not None there.
    if action == oc.KEEP and current is not None:
        reason = f"{what}：当前承办人仍适用，保留 | still fits the new facts: kept"
        await _note(
            session,
            order,
            rule=f"{cause}/keep",
            reason=reason,
            now=now,
            policy=policy,
            chosen=current.staff_id,
        )
    elif action == oc.QUEUE:
        reason = f"{what}：仍在督办队列，按新的优先级排序 | stays in the supervisor queue, re-prioritised"
        await _note(session, order, rule=f"{cause}/queue", reason=reason, now=now, policy=policy)
    elif action == oc.WITHDRAW and current is not None:
        reason = f"{what}：{fit}；撤回并按新情况重新分派 | withdrawn and routed again"
        await _note(session, order, rule=f"{cause}/withdraw", reason=reason, now=now, policy=policy)
        order = await _give_back(
            session, a=current, now=now, status="withdrawn", code=WITHDRAWN_CODE[cause], note=reason
        )
        await _route_again(session, order=order, now=now, policy=policy)
    elif action == oc.REROUTE:
        reason = f"{what}：按新情况重新分派 | routed again under the new facts"
        await _note(session, order, rule=f"{cause}/reroute", reason=reason, now=now, policy=policy)
        await _route_again(session, order=order, now=now, policy=policy)


async def release_holdings(
    session: AsyncSession,
    *,
    staff_id: uuid.UUID,
    active: bool,
    role: str,
    now: datetime,
    policy: Policy | None = None,
) -> int:
    """A staff member changed so that they can no longer act on what they hold (deactivated, or a
    role that cannot answer offers or work those cases): every open offer and accepted order of
    theirs it concerns goes back to routing now, each with the reason in its decision trail.
    Before, an offer waited for its timeout and an accepted order for its reply clock, held by
    someone with no login or no right to the case. The caller holds the staff row's lock."""
    policy = policy or default_policy()
    held = (
        await session.scalars(
            select(Assignment.work_order_id).where(
                Assignment.staff_id == staff_id, Assignment.status.in_(("offered", "accepted"))
            )
        )
    ).all()
    released = 0
    for order_id in sorted(set(held)):  # a stable order of locks across concurrent changes
        order = await session.get(OrderSnapshot, order_id, with_for_update=True)
        current = await _current(session, order_id)
        if order is None or current is None or current.staff_id != staff_id:
            continue
        why = oc.holder_unable(active=active, role=role, service_type=order.service_type)
        if why is None:
            continue
        reason = f"承办人变动：{why}；撤回并重新分派 | the holder changed: withdrawn and routed again"
        await _note(session, order, rule="holder_changed/withdraw", reason=reason, now=now, policy=policy)
        order = await _give_back(
            session, a=current, now=now, status="withdrawn", code=HOLDER_CHANGED, note=reason
        )
        await _route_again(session, order=order, now=now, policy=policy)
        released += 1
    return released


async def move_county(
    session: AsyncSession, *, order: OrderSnapshot, after: oc.Facts, now: datetime, policy: Policy | None
) -> None:
    policy = policy or default_policy()
    before = facts_of(order)
    change = oc.diff(before, after)
    current = await _current(session, order.work_order_id)
    # The new county first: the withdrawal below is then keyed by it, ahead of the new offer.
    _set_facts(order, after)
    network = await routing_network(session, county_code=after.county_code, now=now)
    if change.clocks:
        recompute_order(order, now=now, policy=policy, calendar=network.calendar)
    if order.status == "closed":
        return
    if order.status == "merged":
        # Intake moves only open orders: it was unmerged, and that event is still on the old
        # county's partition (older, so it will change nothing when it comes). Open it here.
        order.closed_at, order.escalated_at = None, None
        order.supervision_level, order.at_risk_raised = 0, False
    reason = (
        f"跨县转办 {before.county_code}→{after.county_code}：撤回原县（区）的派单，在新县（区）重新分派 "
        f"| moved to county {after.county_code}: withdrawn there, routed here"
    )
    await _note(session, order, rule="county_transfer/reroute", reason=reason, now=now, policy=policy)
    if current is not None:
        order = await _give_back(
            session, a=current, now=now, status="withdrawn", code="county_transfer", note=reason
        )
    await _route_again(session, order=order, now=now, policy=policy)


async def reopen(
    session: AsyncSession, *, order: OrderSnapshot, now: datetime, policy: Policy | None, cause: str
) -> None:
    policy = policy or default_policy()
    order.status, order.closed_at, order.escalated_at = "new", None, None
    order.supervision_level, order.at_risk_raised = 0, False
    reason = f"{oc.CAUSE_ZH[cause]}：工单重新单独办理，重新分派 | un-merged: routed again"
    await _note(session, order, rule=f"{cause}/reroute", reason=reason, now=now, policy=policy)
    await _route_again(session, order=order, now=now, policy=policy)


async def _route_again(session: AsyncSession, *, order: OrderSnapshot, now: datetime, policy: Policy) -> None:
    """A fresh routing under the order's current facts: the offer count starts again (the offers
    so far were for other facts); who refused it stays excluded (service.tried_staff)."""
    order.status, order.offers_made = "new", 0
    await offer_next(session, order=order, now=now, policy=policy)


# ---- helpers ------------------------------------------------------------------------------
def facts_of(order: OrderSnapshot) -> oc.Facts:
    return oc.Facts(
        service_type=order.service_type,
        domain=order.domain,
        urgency=order.urgency or "normal",
        special_groups=tuple(sorted(order.special_groups or ())),
        region_code=order.region_code,
        county_code=order.county_code,
    )


def payload_facts(data: intake.WorkOrderCreatedV1) -> oc.Facts:
    """From a payload carrying the whole order (transferred, routing_requested)."""
    return oc.Facts(
        service_type=data.service_type,
        domain=data.domain,
        urgency=data.urgency or "normal",
        special_groups=tuple(sorted(data.special_groups)),
        region_code=data.region_code,
        county_code=data.county_code,
    )


def _set_facts(order: OrderSnapshot, f: oc.Facts) -> None:
    order.service_type, order.domain, order.urgency = f.service_type, f.domain, f.urgency
    order.special_groups, order.region_code, order.county_code = (
        list(f.special_groups),
        f.region_code,
        f.county_code,
    )
    order.priority = domain.priority_key(f.special_groups, f.urgency, None)[0]


async def _locked(session: AsyncSession, work_order_id: str) -> OrderSnapshot | None:
    return await session.get(OrderSnapshot, uuid.UUID(work_order_id), with_for_update=True)


def _fresh(order: OrderSnapshot, event: Envelope) -> bool:
    """Newer than every intake event applied to this order: take it, and remember its revision."""
    if oc.stale(event.sequence, order.intake_seq or 0):
        return False
    if event.sequence is not None:
        order.intake_seq = event.sequence
    return True


async def _take(session: AsyncSession, event: Envelope, work_order_id: str) -> OrderSnapshot | None:
    """The order, locked, if this event is news for it (None: unknown, or superseded)."""
    order = await _locked(session, work_order_id)
    return order if order is not None and _fresh(order, event) else None


async def _current(session: AsyncSession, order_id: uuid.UUID) -> Assignment | None:
    """The open offer or the accepted assignment (at most one: uq_assignments_one_open_offer and
    accept, which ends the offer it takes)."""
    return await session.scalar(
        select(Assignment)
        .where(Assignment.work_order_id == order_id, Assignment.status.in_(("offered", "accepted")))
        .order_by(Assignment.offered_at.desc())
        .limit(1)
        .with_for_update()
    )


async def _note(
    session: AsyncSession,
    order: OrderSnapshot,
    *,
    rule: str,
    reason: str,
    now: datetime,
    policy: Policy,
    chosen: uuid.UUID | None = None,
) -> None:
    """A decision row for a re-decision (全程留痕): what changed and what was done about it."""
    await insert_decision(
        session,
        dict(
            id=uuid.uuid4(),
            work_order_id=order.work_order_id,
            rule=rule[:100],
            reason=reason,
            chosen_staff_id=chosen,
            decided_at=now,
            policy_version=policy.version,
            complexity=order.complexity or 0,
            complexity_reasons=list(order.complexity_reasons or []),
            band="",
            step=None,
            candidates=[],
        ),
    )
