"""Kafka event → dispatch service call."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.app import Runtime
from libs.common.events import aid, intake, mediation
from libs.common.events.envelope import Envelope
from libs.common.handlers import Handlers
from services.dispatch import lifecycle, offers, parties, reconcile, service


def build_handlers(rt: Runtime) -> Handlers:
    async def on_created(session: AsyncSession, event: Envelope, data: intake.WorkOrderCreatedV1) -> None:
        await service.route_new_order(session, event=event, data=data, now=rt.clock.now())

    async def on_routing_requested(
        session: AsyncSession, event: Envelope, data: intake.WorkOrderRoutingRequestedV1
    ) -> None:
        # Like created, but an order dispatch has already is confirmed, not routed again.
        await reconcile.answer_routing_request(session, event=event, data=data, now=rt.clock.now())

    async def on_closed(session: AsyncSession, event: Envelope, data: intake.WorkOrderClosedV1) -> None:
        await offers.close_order(session, closed=data, now=rt.clock.now())

    # The order's life after the first routing (lifecycle.py): each re-decides where needed.
    def follow(use_case):  # type: ignore[no-untyped-def]
        async def handle(session: AsyncSession, event: Envelope, data) -> None:  # type: ignore[no-untyped-def]
            await use_case(session, event=event, data=data, now=rt.clock.now())

        return handle

    # A case opened on the order: who acts on the matter (conflicts of interest, parties.py).
    async def on_aid_case(session: AsyncSession, event: Envelope, case: aid.AidCaseOpenedV1) -> None:
        await parties.record_case(
            session, work_order_id=case.work_order_id, acting=[case.handler_staff_id], source=event.type
        )

    async def on_mediation_case(
        session: AsyncSession, event: Envelope, case: mediation.MediationCaseOpenedV1
    ) -> None:
        await parties.record_case(
            session, work_order_id=case.work_order_id, acting=[case.mediator_staff_id], source=event.type
        )

    return (
        Handlers()
        .on(intake.WorkOrderCreatedV1, on_created)
        .on(intake.WorkOrderRoutingRequestedV1, on_routing_requested)
        .on(intake.WorkOrderClosedV1, on_closed)
        # The classifier's verdict at filing comes just before the `created` that carries the
        # same facts (one transaction, one partition, in that order): nothing to route yet.
        .on(intake.WorkOrderClassifiedV2, follow(lifecycle.on_classified), unless=lifecycle.made_at_filing)
        .on(intake.WorkOrderClassifiedV1, follow(lifecycle.on_classified))  # deprecated, still accepted
        .on(intake.WorkOrderUpdatedV1, follow(lifecycle.on_updated))
        .on(intake.WorkOrderTransferredV1, follow(lifecycle.on_transferred))
        .on(intake.WorkOrderMergedV1, follow(lifecycle.on_merged))
        .on(intake.WorkOrderUnmergedV1, follow(lifecycle.on_unmerged))
        .on(aid.AidCaseOpenedV1, on_aid_case)
        .on(mediation.MediationCaseOpenedV1, on_mediation_case)
    )
