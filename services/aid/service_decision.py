"""Use cases of the decision (Art 43): grant, written refusal, withdrawal. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.calendar import WorkCalendar
from libs.common.problems import FieldProblem
from services.aid import domain
from services.aid.models import Case
from services.aid.schemas import DecisionIn
from services.aid.service import facts_of
from services.aid.settings import AidRules
from services.aid.workflow import (
    actor_ref,
    guard,
    local_day,
    settle_clocks,
    start_statutory,
    step,
)


def refusal_letter(case: Case, reasons: str) -> str:
    return (
        f"{case.applicant_name}：你于{case.received_on}提出的法律援助申请（{case.number}），经审查，"
        f"不符合法律援助条件，理由如下：{reasons}。依据《中华人民共和国法律援助法》第四十三条，决定不予法律援助。"
        "如对本决定有异议，可以向设立法律援助机构的司法行政部门提出，司法行政部门应当自收到异议之日起五日内"
        "进行审查，作出维持法律援助机构决定或者责令法律援助机构改正的决定（第四十九条）。"
    )


async def decide(
    session: AsyncSession,
    *,
    case: Case,
    body: DecisionIn,
    who: Principal,
    now: datetime,
    cal: WorkCalendar,
    rules: AidRules,
) -> Case:
    guard(case, body.decision)
    today = local_day(now)
    result = domain.evaluate(facts_of(case, rules, today), rules)
    case.eligibility = result.as_dict()
    actor = actor_ref(who)
    if body.decision == "grant":
        if not result.eligible:
            raise FieldProblem(
                "decision",
                "不符合法律援助条件，不能准予：" + "；".join(result.problems),
                "applicant does not meet the conditions: " + "; ".join(result.problems),
            )
        case.decision = {
            "outcome": "grant",
            "basis": result.basis,
            "decided_at": now.isoformat(),
            "by": actor.log,
        }
        await settle_clocks(session, case.id, "decision", now=now)
        # Art 43: a lawyer within 3 days of the decision to grant.
        await start_statutory(session, case, "assignment", today, cal)
        await step(session, case, "grant", now=now, actor=actor, details={"basis": result.basis})
        return case
    reasons = body.reasons.strip() or "；".join(result.problems)
    if len(reasons) < 4:
        raise FieldProblem("reasons", "不予法律援助须书面说明理由", "a refusal needs written reasons")
    case.decision = {
        "outcome": "refuse",
        "reasons": reasons,
        "letter": refusal_letter(case, reasons),
        "decided_at": now.isoformat(),
        "by": actor.log,
    }
    await settle_clocks(session, case.id, "decision", now=now)
    await step(session, case, "refuse", now=now, actor=actor, reason=reasons)
    return case


async def withdraw(
    session: AsyncSession, *, case: Case, reason: str, who: Principal | None, now: datetime
) -> Case:
    guard(case, "withdraw")
    await settle_clocks(session, case.id, "decision", "supplement", now=now, cancel=True)
    await step(session, case, "withdraw", now=now, actor=actor_ref(who), reason=reason)
    return case
