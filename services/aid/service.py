"""Use cases up to the decision: receiving, completeness (一次性告知/容缺受理), review, grant or
refusal. Never commits — the caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import regions
from libs.common.auth import Principal, ensure_visible
from libs.common.bilingual import Text
from libs.common.calendar import WorkCalendar
from libs.common.crypto import get_cipher
from libs.common.events import aid as ev
from libs.common.events import dispatch
from libs.common.pii import mask_id_number, mask_phone
from libs.common.problems import FieldProblem
from libs.common.receipt import resolve
from libs.common.workflow import refused
from services.aid import domain
from services.aid.models import Case, CaseLog, case_number_seq
from services.aid.schemas import ApplicationIn, ReceiptIn, SupplementIn, WindowApplicationIn
from services.aid.service_receipt import audit_entered, correct_receipt, receipt_values
from services.aid.settings import AidRules
from services.aid.workflow import (
    Actor,
    actor_of,
    actor_ref,
    guard,
    local_day,
    open_clock,
    publish_breach,
    publish_case,
    settle_clocks,
    staff_uuid,
    start_clock,
    start_statutory,
    step,
)


async def _new_case(
    session: AsyncSession,
    *,
    now: datetime,
    values: dict,
    received: dict,  # type: ignore[type-arg]
) -> Case | None:
    """`received`: the receipt's columns (service_receipt.receipt_values)."""
    seq = await session.scalar(case_number_seq.next_value())
    case_id = uuid.uuid4()
    inserted = await session.execute(
        insert(Case)
        .values(
            id=case_id,
            number=domain.format_case_number(now, values["county_code"], int(seq)),
            opened_at=now,
            updated_at=now,
            **received,
            **values,
        )
        .on_conflict_do_nothing(index_elements=["work_order_id"])
        .returning(Case.id)
    )
    if inserted.first() is None:
        return None
    return await session.get(Case, case_id)


async def _opened(
    session: AsyncSession, case: Case, *, now: datetime, cal: WorkCalendar, action: str
) -> None:
    await publish_case(
        session,
        case,
        ev.AidCaseOpenedV1(
            case_id=str(case.id),
            case_number=case.number,
            work_order_id=str(case.work_order_id) if case.work_order_id else None,
            county_code=case.county_code,
            handler_staff_id=str(case.handler_staff_id) if case.handler_staff_id else None,
            opened_at=now,
        ),
    )
    session.add(
        CaseLog(case_id=case.id, action=action, from_state=None, to_state=case.status, actor="system", at=now)
    )
    if case.status == "received":
        # Art 43: the 7 days run from receipt — the day it was received, not entered (民法典 Art 201:
        # the receipt day itself not counted).
        start = case.received_on or local_day(now)
        await start_statutory(session, case, "decision", start, cal, counts_from=domain.RECEIPT)


async def open_case_from_assignment(
    session: AsyncSession, *, assigned: dispatch.AssignedV1, now: datetime, cal: WorkCalendar
) -> Case | None:
    if not domain.opens_case(assigned.service_type):
        return None
    case = await _new_case(
        session,
        now=now,
        values=dict(
            work_order_id=uuid.UUID(assigned.work_order_id),
            county_code=assigned.county_code,
            region_code=assigned.region_code,
            status="received",
            kind="application",
            source="work_order",
            handler_staff_id=uuid.UUID(assigned.staff_id),
            staff_name=assigned.staff_name,
            applicant_name=assigned.requester_name,
            applicant={"name": assigned.requester_name},
            summary=assigned.description,
        ),
        # Received when the officer took the order; a paper form received earlier is entered with
        # the application (or corrected) by staff.
        received=receipt_values(
            resolve(received_at=None, reason=None, now=now), by="system", now=now, source="work_order"
        ),
    )
    if case is not None:
        await _opened(session, case, now=now, cal=cal, action="receive")
    return case


async def apply_at_window(
    session: AsyncSession,
    *,
    body: WindowApplicationIn,
    who: Principal,
    now: datetime,
    cal: WorkCalendar,
    rules: AidRules,
) -> Case:
    county = regions.county_of(body.region_code)
    if county is None or regions.lookup(body.region_code) is None:
        raise FieldProblem("region_code", "未知的行政区划代码", "unknown region code")
    ensure_visible(who, body.region_code)
    received = resolve(received_at=body.received_at, reason=body.receipt_reason, now=now)
    case = await _new_case(
        session,
        now=now,
        received=receipt_values(received, by=actor_of(who), now=now, source="window"),
        values=dict(
            work_order_id=None,
            county_code=county,
            region_code=body.region_code,
            status="received",
            kind="application",
            source="window",
            handler_staff_id=staff_uuid(who),
            staff_name=who.name or None,
            applicant_name=body.applicant.name,
            summary=body.matter.cause,
        ),
    )
    if case is None:  # only a work order's case can meet an existing one (ON CONFLICT work_order_id)
        raise RuntimeError("a window application's case was not inserted")
    await audit_entered(session, case, received)
    await _opened(session, case, now=now, cal=cal, action="receive")
    # The receipt is the case's already: the application itself must not "correct" it again.
    application = body.model_copy(update={"received_at": None})
    await submit_application(session, case=case, body=application, who=who, now=now, cal=cal, rules=rules)
    return case


def facts_of(case: Case, rules: AidRules, today: date) -> domain.Facts:
    m = case.means
    means = (
        domain.Means(
            household_size=m["household_size"],
            monthly_income=Decimal(str(m["monthly_income"])),
            assets=Decimal(str(m.get("assets", 0))),
            verification=m.get("verification"),
            verified=bool(m.get("verified")),
        )
        if m
        else None
    )
    birth = case.applicant.get("birth_date")
    return domain.Facts(
        province=case.county_code[:2],
        matter=case.matter.get("category", ""),
        applicant_birth=date.fromisoformat(birth) if birth else None,
        exemption=case.exemption,
        means=means,
        attachments={a["kind"] for a in case.attachments},
        proxy_kind=(case.proxy or {}).get("kind"),
        today=today,
    )


def _store_application(case: Case, body: ApplicationIn, rules: AidRules) -> None:
    a = body.applicant
    if body.matter.category not in rules.all_matters(case.county_code[:2]):
        raise FieldProblem(
            "matter.category",
            f"事项类别无效，可选：{', '.join(rules.all_matters(case.county_code[:2]))}",
            "unknown matter category",
        )
    cipher = get_cipher()
    birth = a.birth_date or (domain.birth_from_id(a.id_number) if a.id_number else None)
    case.applicant_name = a.name
    case.applicant = {
        "name": a.name,
        "gender": a.gender,
        "birth_date": birth.isoformat() if birth else None,
        "address": a.address,
        "preferred_lawyer_id": str(body.preferred_lawyer_id) if body.preferred_lawyer_id else None,
    }
    # PIPL Art 28/51: ID and phone stored encrypted, exact lookups via blind index, shown masked.
    case.id_number_enc = cipher.encrypt(a.id_number)
    case.id_number_index = cipher.blind_index(a.id_number)
    case.id_number_masked = mask_id_number(a.id_number)
    case.phone_enc = cipher.encrypt(a.phone)
    case.phone_masked = mask_phone(a.phone)
    case.proxy = body.proxy.model_dump(mode="json") if body.proxy else None
    case.matter = body.matter.model_dump(mode="json")
    case.summary = body.matter.cause
    case.grave_penalty = body.matter.grave_penalty
    case.requested_form = body.requested_form
    case.means = body.means.model_dump(mode="json") if body.means else None
    case.exemption = body.exemption
    case.special_groups = body.special_groups
    # Documents uploaded to the case stay on file whatever the form lists (services/aid/uploads).
    uploaded = [x for x in case.attachments if x.get("upload_id")]
    listed = [x.model_dump() for x in body.attachments]
    case.attachments = listed + [x for x in uploaded if x["kind"] not in {a["kind"] for a in listed}]


async def submit_application(
    session: AsyncSession,
    *,
    case: Case,
    body: ApplicationIn,
    who: Principal,
    now: datetime,
    cal: WorkCalendar,
    rules: AidRules,
) -> Case:
    guard(case, "accept_application")  # only while the file is still being put together
    if body.received_at is not None and body.received_at != case.received_at:
        # The paper form of a case opened from a work order was received earlier than the case:
        # the clocks count from that receipt (Art 43), like any correction — with a reason.
        await correct_receipt(
            session,
            case=case,
            # Not validated here: a missing reason is reported by the rule, on receipt_reason.
            body=ReceiptIn.model_construct(received_at=body.received_at, reason=body.receipt_reason or ""),
            who=who,
            now=now,
            cal=cal,
            rules=rules,
            reason_field="receipt_reason",
        )
    _store_application(case, body, rules)
    today = local_day(now)
    actor = actor_ref(who)
    await _custody_forwarding(session, case, now=now)
    facts = facts_of(case, rules, today)
    case.eligibility = domain.evaluate(facts, rules).as_dict()
    missing = domain.missing_items(facts, rules)
    urgent = domain.provide_first(
        body.matter.limitation_due, today, rules, urgent_preservation=body.matter.urgent_preservation
    )
    if urgent:
        return await _provide_first(session, case, why=urgent, missing=missing, now=now, cal=cal, actor=actor)
    blocking = domain.blocking_items(missing, rules, body.accept_with_missing)
    if blocking and case.status == "received":
        await _request_materials(
            session, case, missing, today=today, now=now, cal=cal, rules=rules, actor=actor
        )
        return case
    if blocking:  # already notified once: the list is not reissued, the deadline stands
        case.missing_items = blocking
        await step(session, case, "supplement_partial", now=now, actor=actor, details={"missing": blocking})
        return case
    await _accept(session, case, deferred=missing, now=now, cal=cal, actor=actor)
    return case


async def _request_materials(
    session: AsyncSession,
    case: Case,
    missing: list[str],
    *,
    today: date,
    now: datetime,
    cal: WorkCalendar,
    rules: AidRules,
    actor: Actor,
) -> None:
    """Art 43 一次性告知: the whole list at once, with a deadline; the 7-day review clock waits for it."""
    due = cal.add_days(today, rules.supplement_days)
    case.missing_items = missing
    case.supplement_due = due.due
    await settle_clocks(session, case.id, "decision", now=now, cancel=True)
    await start_clock(
        session, case, "supplement", today, due, domain.SUPPLEMENT_ARTICLE, days=rules.supplement_days
    )
    names = [domain.ATTACHMENT_NAMES[m] for m in missing]
    await step(
        session,
        case,
        "request_materials",
        now=now,
        actor=actor,
        reason="；".join(names),
        details={"missing": missing, "due": due.due.isoformat()},
    )


async def _accept(
    session: AsyncSession, case: Case, *, deferred: list[str], now: datetime, cal: WorkCalendar, actor: Actor
) -> None:
    today = local_day(now)
    case.deferred_items = deferred  # 容缺受理: accepted, items to follow during review
    case.missing_items = []
    await settle_clocks(session, case.id, "supplement", now=now)
    if await open_clock(session, case.id, "decision") is None:
        # Supplement received: the review period starts from the day the file became complete.
        await start_statutory(session, case, "decision", today, cal)
    await step(session, case, "accept_application", now=now, actor=actor, details={"deferred": deferred})


async def _provide_first(
    session: AsyncSession,
    case: Case,
    *,
    why: str,
    missing: list[str],
    now: datetime,
    cal: WorkCalendar,
    actor: Actor,
) -> Case:
    """Art 44: provide aid now; the recipient supplies the materials afterwards (deferred_items)."""
    today = local_day(now)
    case.provide_first = True
    case.deferred_items = missing
    case.decision = {
        "outcome": "grant",
        "basis": [why, "先行提供法律援助，受援人应当及时补办有关材料和证明"],
        "decided_at": now.isoformat(),
    }
    await settle_clocks(session, case.id, "decision", "supplement", now=now)
    await start_statutory(session, case, "assignment", today, cal)
    await step(session, case, "provide_first", now=now, actor=actor, reason=why)
    return case


async def _custody_forwarding(session: AsyncSession, case: Case, *, now: datetime) -> None:
    """Art 39: custody must forward an application within 24 h; a late one raises supervision."""
    proxy = case.proxy or {}
    if proxy.get("kind") != "custody" or not proxy.get("custody_received_at"):
        return
    got = datetime.fromisoformat(proxy["custody_received_at"])
    late = domain.custody_forwarding_late(got, case.received_at or now)  # the agency's receipt
    case.proxy = {**proxy, "forwarded_within_24h": not late}
    if late:
        await publish_breach(
            session,
            case,
            clock="custody_forwarding",
            article="法律援助法第三十九条",
            due=local_day(got),
            now=now,
        )


async def supplement(
    session: AsyncSession,
    *,
    case: Case,
    body: SupplementIn,
    who: Principal,
    now: datetime,
    cal: WorkCalendar,
    rules: AidRules,
) -> Case:
    guard(case, "accept_application")
    if case.status != "incomplete":
        why = Text("案件不在补充材料阶段", "case is not awaiting materials")
        raise refused(case.status, "supplement_partial", why, domain.allowed_actions(case.status))
    kinds = {a["kind"] for a in case.attachments}
    case.attachments = case.attachments + [x.model_dump() for x in body.attachments if x.kind not in kinds]
    if body.means:
        case.means = body.means.model_dump(mode="json")
    return await recheck_supplement(session, case=case, who=who, now=now, cal=cal, rules=rules)


async def recheck_supplement(
    session: AsyncSession, *, case: Case, who: Principal, now: datetime, cal: WorkCalendar, rules: AidRules
) -> Case:
    """An incomplete file received something (a supplement, an uploaded document): still missing
    items are the new 一次性告知 list; the last one supplied accepts the application (Art 43)."""
    facts = facts_of(case, rules, local_day(now))
    case.eligibility = domain.evaluate(facts, rules).as_dict()
    still = domain.missing_items(facts, rules)
    if still:
        case.missing_items = still
        await step(
            session, case, "supplement_partial", now=now, actor=actor_ref(who), details={"missing": still}
        )
        return case
    await _accept(session, case, deferred=[], now=now, cal=cal, actor=actor_ref(who))
    return case
