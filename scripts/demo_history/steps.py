"""What each person does to one demo order, through the services' APIs: file it (operator,
counter clerk, citizen on the web, an external system), take or turn down the offer, run the
legal-aid or mediation case, call back, close, rate."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from scripts.demo_history.plan import REJECT_REASONS, DemoOrder
from scripts.demo_history.stack import Failed, People, Stack

SUPERVISOR = "supervisor_1404"
ADMIN = "admin"
CLOSING = {
    "consultation": "已电话答复求助人，告知相关法律规定和维权途径",
    "legal_aid": "法律援助案件已办结，受援人知悉结果",
    "mediation": "调解已终结，已告知当事人结果及其他救济途径",
    "notarization": "已告知办理公证所需材料和流程，求助人已预约办理",
    "judicial_appraisal": "已告知鉴定机构名录及委托程序",
    "lawyer_referral": "已推荐律师事务所，求助人已与律师取得联系",
    "complaint": "投诉已核实处理，处理结果已告知投诉人",
}
COMMENTS = {
    5: "工作人员很耐心，解答清楚",
    4: "整体满意",
    3: "一般，等的时间有点长",
    2: "处理太慢",
    1: "没有解决问题",
}
AID_CATEGORY = {
    "labor": ("labour_pay", "追索劳动报酬", "arbitration_agency"),
    "marriage_family": ("support_maintenance", "请求给付赡养费、抚养费", "civil_litigation_agency"),
    "traffic": ("traffic_injury", "交通事故人身损害赔偿", "civil_litigation_agency"),
    "personal_injury": ("work_injury", "工伤事故人身损害赔偿", "civil_litigation_agency"),
    "criminal": ("criminal_defence", "刑事辩护", "criminal_defence"),
}


def citizen_ip(o: DemoOrder) -> str:
    """Each demo citizen's own address, from the documentation ranges (RFC 5737): the web door's
    per-address limits count them as the different people they are."""
    n = int(o.key[1:])
    return f"198.51.100.{n % 250 + 1}" if n % 2 else f"203.0.113.{n % 250 + 1}"


def create_body(o: DemoOrder, people: People, stack: Stack) -> tuple[str, str | None, dict, dict[str, str]]:
    """(path, username, body, headers) of the order's filing, as its channel files it."""
    now = stack.clock.now()
    body: dict[str, Any] = {
        "channel": o.channel,
        "requester": {"name": o.name, "phone": o.phone},
        "region_code": o.region_code,
        "service_type": o.service_type,
        "domain": o.domain,
        "description": o.description,
        "special_groups": list(o.special_groups),
    }
    if o.urgency:
        body["urgency"] = o.urgency
    if o.channel == "web":  # the citizen's own door: no type, the text is classified
        web = {k: body[k] for k in ("requester", "region_code", "description", "special_groups")}
        return "/v1/public/requests", None, web | {"portal": o.portal}, {"X-Forwarded-For": citizen_ip(o)}
    if o.channel == "hotline":
        op = people.operator(o)
        body["hotline"] = {
            "call_id": f"DEMO-{now:%Y%m%d}-{o.key}",
            "caller_number": o.phone,
            "operator_id": op.code,
            "call_started_at": (now - timedelta(minutes=6)).isoformat(),
            "call_ended_at": now.isoformat(),
        }
        if o.answered_on_call:
            body["hotline"] |= {
                "answered_on_call": True,
                "answer_summary": "已在电话中释明相关法律规定及办理途径",
            }
        return "/v1/work-orders", op.code, body, {}
    if o.channel == "counter":
        clerk = people.counter[o.county][int(o.key[1:]) % 2]
        body["counter"] = {"service_point_id": str(clerk.point.id), "staff_id": str(clerk.id)}
        return "/v1/work-orders", clerk.code, body, {}
    body["external"] = {
        "source": o.source,
        "reference": f"DEMO-{o.source}-{now:%Y%m%d}-{o.key}",
        "transferred_at": now.isoformat(),
    }
    return "/v1/work-orders", None, body, {"X-API-Key": stack.api_key or ""}


async def file(stack: Stack, people: People, o: DemoOrder) -> dict:
    path, who, body, headers = create_body(o, people, stack)
    # The same key for the same order on every machine: a retried create is answered, not repeated.
    headers["Idempotency-Key"] = f"demo-history-{o.key}-{stack.clock.now():%Y%m%d}"
    out = await stack.call("intake", "POST", path, as_=who, json=body, headers=headers, ok=(200, 201))
    if "id" not in out:  # the citizen is told the number only; staff find the order by it
        page = await stack.call(
            "intake", "GET", "/v1/work-orders", as_=SUPERVISOR, params={"q": out["number"]}
        )
        out = page["items"][0]
    return out


async def intake_status(stack: Stack, order_id: str) -> str:
    return (await stack.call("intake", "GET", f"/v1/work-orders/{order_id}", as_=SUPERVISOR))["status"]


async def open_offer(stack: Stack, order_id: str, not_ids: frozenset[str] = frozenset()) -> dict | None:
    """The order's open offer, once dispatch has made it and intake has heard of it (None if it
    escalated instead) — before the clock moves on, or intake would think dispatch silent."""

    async def fetch() -> Any:
        status = await intake_status(stack, order_id)
        if status == "escalated":
            return {"escalated": True}
        if status == "received":
            return None
        rows = await stack.call(
            "dispatch", "GET", "/v1/assignments", as_=SUPERVISOR, params={"work_order_id": order_id}
        )
        return next((a for a in rows if a["status"] == "offered" and a["id"] not in not_ids), None)

    found = await stack.poll(fetch)
    return None if not found or found.get("escalated") else found


async def respond(stack: Stack, people: People, o: DemoOrder, st: dict) -> None:
    """Answer the offer as the plan says; an offer left lying times out at the next sweeps."""
    if o.answered_on_call or (o.response == "none" and await intake_status(stack, st["id"]) == "merged"):
        return  # never dispatched
    offer = await open_offer(stack, st["id"])
    if offer is None or o.response in ("none", "ignore", "ignore_then_assign", "open"):
        return
    if o.response == "reject":
        code = list(REJECT_REASONS)[int(o.key[1:]) % len(REJECT_REASONS)]
        await stack.call(
            "dispatch",
            "POST",
            f"/v1/assignments/{offer['id']}/reject",
            as_=people.code(offer["staff_id"]),
            json={"reason_code": code, "note": REJECT_REASONS[code]},
        )
        offer = await open_offer(stack, st["id"], frozenset({offer["id"]}))
        if offer is None:
            return
    await accept(stack, people, offer, st)


async def accept(stack: Stack, people: People, offer: dict, st: dict) -> None:
    code = people.code(offer["staff_id"])
    await stack.call("dispatch", "POST", f"/v1/assignments/{offer['id']}/accept", as_=code)
    st["handler"] = code


async def supervisor_assign(stack: Stack, people: People, o: DemoOrder, st: dict) -> None:
    """督办: an escalated order handed by the city's supervisor to a person of its county."""
    if await intake_status(stack, st["id"]) != "escalated":
        return
    role = {"legal_aid": "aid_officer", "mediation": "mediator"}.get(o.service_type, "lawyer")
    person = people.county_staff(o.county, role)
    offer = await stack.call(
        "dispatch",
        "POST",
        f"/v1/work-orders/{st['id']}/transfer",
        as_=SUPERVISOR,
        json={"to_staff_id": str(person.id), "reason": "督办：超时无人接单，指定承办"},
    )
    await accept(stack, people, offer, st)


async def case_of(stack: Stack, service: str, st: dict) -> dict | None:
    if st.get(service):
        return st[service]

    async def fetch() -> Any:
        rows = await stack.call(
            service, "GET", "/v1/cases", as_=st["handler"], params={"work_order_id": st["id"]}
        )
        return rows[0] if rows else None

    st[service] = await stack.poll(fetch)
    if st[service] is None:
        raise Failed(f"no {service} case for order {st['id']}")
    return st[service]


def application(o: DemoOrder) -> dict:
    category, cause, form = AID_CATEGORY.get(o.domain or "", AID_CATEGORY["labor"])
    body: dict[str, Any] = {
        "applicant": {"name": o.name, "phone": o.phone},
        "matter": {"category": category, "cause": cause, "opposing_parties": ["对方当事人"]},
        "requested_form": form,
    }
    if "migrant_worker" in o.special_groups and category == "labour_pay":
        body["exemption"] = "migrant_worker"
        body["attachments"] = [{"kind": k} for k in ("identity", "matter_materials", "migrant_work_proof")]
    else:
        body["means"] = {"household_size": 3, "monthly_income": "1500", "verification": "honesty_commitment"}
        body["attachments"] = [
            {"kind": k} for k in ("identity", "matter_materials", "hardship_statement", "honesty_commitment")
        ]
    return body


async def aid_step(stack: Stack, people: People, o: DemoOrder, st: dict, action: str) -> None:
    case = await case_of(stack, "aid", st)
    assert case is not None
    path = f"/v1/cases/{case['id']}"
    officer = st["handler"]
    if action == "aid_apply":
        await stack.call("aid", "POST", f"{path}/application", as_=officer, json=application(o))
    elif action == "aid_decide":
        decision = (
            {"decision": "grant"}
            if o.outcome == "grant"
            else {
                "decision": "refuse",
                "reasons": "经审查，申请人家庭经济状况不符合当地经济困难标准",
            }
        )
        await stack.call("aid", "POST", f"{path}/decision", as_=officer, json=decision)
    elif action == "aid_assign":
        out = await stack.call("aid", "POST", f"{path}/assign", as_=officer, json={})
        st["lawyer"] = people.code(out["lawyer_id"])
    elif action == "aid_lawyer_accept" and st.get("lawyer"):
        await stack.call(
            "aid", "POST", f"{path}/lawyer-accept", as_=st["lawyer"], json={"firm_consent_by": "律所主任"}
        )
        await stack.call(
            "aid", "POST", f"{path}/progress", as_=st["lawyer"], json={"note": "已会见受援人，调取证据材料"}
        )
    elif action == "aid_close" and st.get("lawyer"):
        body = {
            "documents": ["裁决书", "送达回证"],
            "report": "经代理，受援人的合法权益得到维护。",
            "outcome": "胜诉结案",
        }
        await stack.call("aid", "POST", f"{path}/close", as_=st["lawyer"], json=body)


async def mediation_step(stack: Stack, people: People, o: DemoOrder, st: dict, action: str) -> None:
    case = await case_of(stack, "mediation", st)
    assert case is not None
    path, mediator = f"/v1/cases/{case['id']}", st["handler"]
    if action == "med_consent":
        other = {"side": "respondent", "name": "对方当事人" if len(o.name) < 2 else o.name[0] + "某某"}
        out = await stack.call(
            "mediation", "POST", f"{path}/parties", as_=mediator, json={"parties": [other]}
        )
        respondent = next(p for p in out["parties"] if p["side"] == "respondent")
        await stack.call(
            "mediation",
            "POST",
            f"{path}/consents",
            as_=mediator,
            json={"party_id": respondent["id"], "decision": "given"},
        )
    elif action == "med_session":
        at = stack.clock.now() + timedelta(minutes=30)
        out = await stack.call(
            "mediation",
            "POST",
            f"{path}/sessions",
            as_=mediator,
            json={"scheduled_at": at.isoformat(), "location": "人民调解委员会调解室", "public": False},
        )
        st["session"] = out["sessions"][-1]["id"]
        st["parties"] = [p["id"] for p in out["parties"]]
    elif action == "med_outcome" and st.get("session"):
        await stack.call(
            "mediation",
            "POST",
            f"{path}/sessions/{st['session']}/record",
            as_=mediator,
            json={"present_party_ids": st["parties"], "notes": "双方陈述事实，调解员释法说理"},
        )
        if o.outcome == "oral":
            body = {
                "terms": "双方当场达成和解，被申请人赔礼道歉并承担相应费用",
                "performance_manner": "即时履行",
            }
            await stack.call("mediation", "POST", f"{path}/oral-agreement", as_=mediator, json=body)
        else:
            await stack.call(
                "mediation",
                "POST",
                f"{path}/failure",
                as_=mediator,
                json={"reason": "双方分歧较大，调解不成"},
            )


async def callback_and_close(stack: Stack, people: People, o: DemoOrder, st: dict, action: str) -> None:
    who = st["handler"]  # the callback task goes with the order to its handler, who closes it
    if action == "callback":

        async def task() -> Any:  # the handler sees it once intake has learnt who they are
            r = await stack.request(
                "intake",
                "GET",
                f"/v1/work-orders/{st['id']}",
                headers={"Authorization": f"Bearer {await stack.token(who)}"},
            )
            body = r.json() if r.status_code == 200 else {}
            tasks = body.get("tasks", []) if body.get("status") in ("assigned", "in_progress") else []
            return next((t for t in tasks if t["kind"] == "callback" and t["status"] == "open"), None)

        task = await stack.poll(task, timeout=10)
        if task is None:
            raise Failed(f"no open callback task of {st['id']} for {who}")
        if int(o.key[1:]) % 5 == 0:
            await stack.call(
                "intake", "POST", f"/v1/tasks/{task['id']}/attempts", as_=who, json={"outcome": "no_answer"}
            )
        body = {"outcome": "reached", "note": "已回拨，求助人知悉办理结果"}
        await stack.call("intake", "POST", f"/v1/tasks/{task['id']}/attempts", as_=who, json=body)
    elif action == "close":
        summary = CLOSING.get(o.service_type, "已办结，处理结果已告知求助人")
        await stack.call(
            "intake", "POST", f"/v1/work-orders/{st['id']}/close", as_=who, json={"result_summary": summary}
        )
        st["closed"] = True


async def rate(stack: Stack, people: People, o: DemoOrder, st: dict) -> None:
    if o.rating is None or not (st.get("closed") or o.answered_on_call):
        return
    body = {"score": o.rating, "comment": COMMENTS[o.rating]}
    if o.rating_via == "web":
        await stack.call(
            "intake",
            "POST",
            f"/v1/track/{st['number']}/rating",
            params={"phone_suffix": o.phone[-4:]},
            json=body,
            headers={"X-Forwarded-For": citizen_ip(o)},
        )
    else:
        await stack.call(
            "intake", "POST", f"/v1/work-orders/{st['id']}/rating", as_=people.operator(o).code, json=body
        )


async def run_step(stack: Stack, people: People, o: DemoOrder, st: dict, action: str) -> None:
    if action == "supervisor_assign":
        await supervisor_assign(stack, people, o, st)
    elif not st.get("handler") and action != "rate":
        return  # nobody took it: nothing for a case worker to do
    elif action.startswith("aid_"):
        await aid_step(stack, people, o, st, action)
    elif action.startswith("med_"):
        await mediation_step(stack, people, o, st, action)
    elif action in ("callback", "close"):
        await callback_and_close(stack, people, o, st, action)
    elif action == "rate":
        await rate(stack, people, o, st)


async def make_api_key(stack: Stack) -> None:
    """The external systems' door: an admin makes the key, as in production; intake learns it
    from identity's event."""
    out = await stack.call(
        "identity",
        "POST",
        "/v1/api-keys",
        as_=ADMIN,
        json={
            "name": "外部系统转办对接（演示）",
            "scopes": ["workorders:write"],
            "region": "1404",
            "rate_limit": "600/minute",
        },
    )
    stack.api_key = out["api_key"]

    async def known() -> bool:
        r = await stack.http["intake"].get(
            "/v1/work-orders/" + str(uuid.uuid4()), headers={"X-API-Key": stack.api_key or ""}
        )
        return r.status_code != 401

    await stack.poll(known, timeout=20)
