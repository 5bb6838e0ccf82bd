"""The case screens' pure view logic: which step forms a case offers for its state and the viewer's
role, how recorded values read (labels, 是/否, —), the people pickers' rows — and the pages drawn
from typical aid and mediation cases (a fake backend) with no raw code or UUID on them."""

from __future__ import annotations

import re
import uuid
from contextlib import asynccontextmanager

import httpx

from services.aid import domain as aid_domain
from services.aid.schemas import AssignIn, ReturnVisitIn, SupplementIn, TerminateIn
from services.console import cases_view as cv
from services.console import i18n
from services.console.api_cases import STEPS, step_body
from services.console.main import create_app
from services.console.service import Backends
from services.console.settings import ConsoleSettings
from services.mediation import domain as med_domain
from services.mediation.schemas import (
    ConfirmationApplicationIn,
    FollowUpIn,
    RecusalIn,
    RegistrationUpdateIn,
    SessionRecordIn,
)
from tests.unit.test_console_app import DOWN, dev_login

LAWYER_ID = str(uuid.uuid4())


def keys(service: str, case: dict, roles: list[str], staff_id: str | None = None) -> list[str]:
    return [s.key for s in cv.offered_steps(service, case, roles, staff_id) if not s.more]


def aid_case(status: str, **over) -> dict:  # type: ignore[no-untyped-def]
    return {"status": status, "allowed_actions": aid_domain.allowed_actions(status), **over}


def med_case(status: str, **over) -> dict:  # type: ignore[no-untyped-def]
    return {"status": status, "allowed_actions": med_domain.allowed_actions(status), **over}


# ---------------------------------------------------------------- which steps for which state / role
def test_aid_officer_gets_only_the_step_of_the_state():
    officer = ["aid_officer"]
    assert keys("aid", aid_case("received"), officer) == ["application"]
    assert keys("aid", aid_case("incomplete", missing_items=["identity"]), officer) == ["supplement"]
    assert keys("aid", aid_case("under_review"), officer) == ["decision"]
    assert keys("aid", aid_case("granted"), officer) == ["assign"]
    assert keys("aid", aid_case("assigned", lawyer_id=LAWYER_ID), officer) == []  # the lawyer's turn
    assert keys("aid", aid_case("closed"), officer) == ["subsidy", "return-visit"]
    done = aid_case("closed", closure={"x": 1}, subsidy={"amount": "800"}, return_visit={"s": 1})
    assert keys("aid", done, officer) == ["archive"]
    assert keys("aid", aid_case("refused"), officer) == ["objection"]
    assert keys("aid", aid_case("archived"), officer) == []
    # Withdrawal, termination and the receipt correction are there, folded away.
    more = [s.key for s in cv.offered_steps("aid", aid_case("under_review"), officer, None) if s.more]
    assert more == ["withdraw", "receipt"]


def test_the_lawyer_never_sees_the_officers_steps_and_acts_only_on_their_own_case():
    lawyer = ["lawyer"]
    for status in ("received", "under_review", "granted", "closed"):
        assert keys("aid", aid_case(status, lawyer_id=LAWYER_ID), lawyer, LAWYER_ID) == []
    assert keys("aid", aid_case("assigned", lawyer_id=LAWYER_ID), lawyer, LAWYER_ID) == ["lawyer-accept"]
    assert keys("aid", aid_case("in_progress", lawyer_id=LAWYER_ID), lawyer, LAWYER_ID) == [
        "progress",
        "close",
    ]
    other = str(uuid.uuid4())
    assert keys("aid", aid_case("in_progress", lawyer_id=LAWYER_ID), lawyer, other) == []
    hint = cv.waiting_hint("aid", aid_case("in_progress"), [])
    assert hint == "cv.hint_lawyer_handles"


def test_objections_are_decided_by_the_supervisor_only():
    case = aid_case("objecting_refusal")
    assert keys("aid", case, ["supervisor"]) == ["objection-decision"]
    assert keys("aid", case, ["aid_officer"]) == []


def test_mediation_walks_from_registration_to_its_end():
    mediator = ["mediator"]
    a, r = {"id": "a", "consent": "given"}, {"id": "r", "consent": "pending"}
    assert keys("mediation", med_case("registered", parties=[a]), mediator) == ["parties", "mediator"]
    assert keys("mediation", med_case("registered", parties=[a, r]), mediator) == ["parties", "consents", "mediator"]  # fmt: skip
    accepted = med_case("accepted", parties=[a, {**r, "consent": "given"}])
    assert keys("mediation", accepted, mediator) == ["mediator", "failure"]
    assert cv.waiting_hint("mediation", accepted, cv.offered_steps("mediation", accepted, mediator, None))
    named = {**accepted, "mediator_staff_id": "m1"}
    assert keys("mediation", named, mediator) == ["sessions", "failure"]  # the mediator: under 其他操作
    scheduled = med_case("mediating", mediator_staff_id="m1", sessions=[{"status": "scheduled"}])
    # 人民调解法 Art 22, 27, 28: no agreement before a session was held and recorded.
    assert keys("mediation", scheduled, mediator) == ["sessions", "record", "failure"]
    held = med_case("mediating", mediator_staff_id="m1", sessions=[{"status": "held"}])
    assert keys("mediation", held, mediator) == ["sessions", "agreement", "oral-agreement", "failure"]
    assert keys("mediation", med_case("agreement_pending", sessions=[{"status": "held"}]), mediator) == [
        "signatures",
        "failure",
    ]
    agreed = med_case("agreed", confirmation={"offered": True})
    assert keys("mediation", agreed, mediator) == ["judicial-confirmation", "follow-up", "return-visit"]
    applied = med_case("agreed", confirmation={"offered": True, "application": {"court": "x"}})
    assert keys("mediation", applied, mediator) == ["follow-up", "return-visit"]
    visited = med_case("closed", follow_ups=[{"kind": "return_visit"}])
    assert keys("mediation", visited, mediator) == []
    assert keys("mediation", med_case("closed"), mediator) == ["return-visit"]
    # A supervisor reads, and may record follow-ups only.
    assert keys("mediation", scheduled, ["supervisor"]) == []
    assert keys("mediation", agreed, ["supervisor"]) == ["follow-up", "return-visit"]


# ---------------------------------------------------------------- values as people read them
def test_values_read_as_labels_never_as_codes():
    assert cv.show(None) == cv.show("") == cv.show([]) == cv.show({}) == "—"
    assert cv.show(True) == "是" and cv.show(False, "en") == "No"
    assert cv.show("arbitration_agency", family="f") == "劳动争议仲裁代理"
    assert cv.show("arbitration_agency", "en", family="f") == "Arbitration"
    assert cv.label_of("dispute", "land") == "土地承包、宅基地纠纷"
    assert cv.label_of("f", "committee") == "调委会指定"
    assert cv.label_of("moutcome", "agreed_written", "en") == "Agreed in writing"
    # The service's own Chinese name when the console has no key; the code only as a last resort.
    assert cv.label_of("f", "labour_pay_x", extra={"labour_pay_x": "某事项"}) == "某事项"
    attachments = [{"kind": "identity", "name": ""}, {"kind": "matter_materials"}]
    assert cv.show(attachments, family="f") == "身份证明、事项相关材料"
    assert cv.show("2026-12-01T01:30:00+00:00") == "2026-12-01 09:30"
    assert cv.clock_state({"met_at": "x"}) == "met" and cv.clock_state({}) == "open"


def test_every_state_action_and_code_family_has_both_languages():
    families = {
        "astatus": aid_domain.STATES,
        "mstatus": med_domain.STATUSES,
        "aact": [a for a in aid_domain.TRANSITIONS],
        "dispute": med_domain.DISPUTE_TYPES,
        "msource": med_domain.SOURCES,
        "courtproc": med_domain.COURT_PROCEDURES,
        "sign": med_domain.SIGN_METHODS,
        "f": [*aid_domain.ATTACHMENT_NAMES, *aid_domain.EXEMPTIONS, *aid_domain.TERMINATION_CAUSES],
        "meanstest": ("not_required_art32", "exempt_art42", "passed", "failed", "unverified", "notification"),
        "clockname": (*aid_domain.CLOCKS, "supplement"),
        "act": [s.key for steps in cv.STEPS_BY_SERVICE.values() for s in steps],
    }
    missing = [f"{fam}.{c}" for fam, codes in families.items() for c in codes if f"{fam}.{c}" not in i18n.M]
    assert missing == []
    laws = [s.law for steps in cv.STEPS_BY_SERVICE.values() for s in steps if s.law]
    assert laws and all(k in i18n.M and "法" in i18n.t(k) for k in laws)


def test_a_concluded_case_offers_closing_its_still_open_order_with_its_result():
    order = {"status": "in_progress"}
    closed = med_case("closed", number="TJ1", outcome="agreed_written", agreement={"terms": "移装外机"})
    assert cv.offers_order_closure("mediation", closed, order)
    assert cv.order_summary("mediation", closed) == "TJ1 调解成功（书面协议）：移装外机"
    failed = med_case("closed", number="TJ2", outcome="failed", close_reason="分歧过大")
    assert cv.order_summary("mediation", failed, "en") == "TJ2 Failed：分歧过大"
    assert not cv.offers_order_closure("mediation", med_case("agreed"), order)  # performance pending
    assert not cv.offers_order_closure("mediation", closed, {"status": "closed"})
    assert not cv.offers_order_closure("mediation", closed, None)  # an order the viewer cannot read
    aid = aid_case("archived", number="FY1", closure={"outcome": "仲裁调解结案"})
    assert cv.order_summary("aid", aid) == "FY1 法律援助已结案：仲裁调解结案"
    refused = aid_case("refused", number="FY2", decision={"outcome": "refuse", "reasons": "收入超标"})
    assert cv.offers_order_closure("aid", refused, order)
    assert cv.order_summary("aid", refused) == "FY2 不予法律援助：收入超标"


def test_service_texts_in_the_consoles_language_and_the_lawyer_choice_rule():
    text = "2027 年节假日安排尚未录入 | holiday schedule for 2027 not entered yet"
    assert cv.in_language(text) == "2027 年节假日安排尚未录入"
    assert cv.in_language(text, "en") == "holiday schedule for 2027 not entered yet"
    assert cv.in_language("只有中文", "en") == "只有中文" and cv.in_language(None) == "—"
    assert cv.lawyer_choice({"county_code": "140403"}, {"lawyer_choice_counties": ["140403"]}) is True
    assert cv.lawyer_choice({"county_code": "140426"}, {"lawyer_choice_counties": ["140403"]}) is False
    assert cv.lawyer_choice({"county_code": "140403"}, {}) is None  # rule book unavailable: the picker


# ---------------------------------------------------------------- forms → bodies
def fields(service: str, action: str):  # type: ignore[no-untyped-def]
    return dict(STEPS[service])[action]


def test_new_step_forms_match_the_services_schemas():
    SupplementIn.model_validate(
        step_body(fields("aid", "supplement"), {"attachments": ["identity", "bogus"]})
    )
    assert step_body(fields("aid", "assign"), {"lawyer_id": LAWYER_ID}) == {"lawyer_id": LAWYER_ID}
    AssignIn.model_validate(step_body(fields("aid", "assign"), {"lawyer_id": ""}))  # rotation
    TerminateIn.model_validate(
        step_body(fields("aid", "terminate"), {"cause": "own_lawyer", "reason": "自行委托律师"})
    )
    ReturnVisitIn.model_validate(step_body(fields("aid", "return-visit"), {"satisfaction": "satisfied"}))
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    record = step_body(
        fields("mediation", "record"), {"session_id": a, "present_party_ids": [a, b], "notes": "双方陈述"}
    )
    assert "session_id" not in record  # a path parameter
    SessionRecordIn.model_validate(record)
    follow = step_body(fields("mediation", "follow-up"), {"performance": "full"})
    assert follow["kind"] == "performance"
    FollowUpIn.model_validate(follow)
    visit = step_body(fields("mediation", "return-visit"), {"satisfied": "yes"})
    assert visit == {"kind": "return_visit", "satisfied": True}
    ConfirmationApplicationIn.model_validate(
        step_body(
            fields("mediation", "judicial-confirmation"),
            {"applied_on": "2026-12-10", "court": "潞州区人民法院", "applying_party_ids": [a, b]},
        )
    )


def test_mediation_corrections_match_the_schemas():
    step = cv.find_step("mediation", "registration")
    assert step is not None and step.method == "PATCH" and step.more
    RegistrationUpdateIn.model_validate(
        step_body(
            step.fields, {"dispute_type": "land", "summary": "宅基地界址争议，双方各执一词", "claims": ""}
        )
    )
    RecusalIn.model_validate(
        step_body(
            fields("mediation", "recusals"),
            {"staff_id": LAWYER_ID, "relation": "系申请人之兄", "raised_by": "party"},
        )
    )
    assert "update_registration" in med_domain.allowed_actions("mediating")
    more = [s.key for s in cv.offered_steps("mediation", med_case("mediating"), ["mediator"], None) if s.more]
    assert {"registration", "recusals", "extensions", "risk", "receipt"} <= set(more)


def test_pickers_put_usable_on_duty_and_lighter_loaded_people_first():
    ids = [str(uuid.uuid4()) for _ in range(3)]
    lawyers = [
        {"id": ids[0], "name": "甲", "firm": "A所", "practice_years": 1, "active": True},
        {"id": ids[1], "name": "乙", "firm": "B所", "practice_years": 8, "active": True},
        {"id": ids[2], "name": "丙", "firm": "C所", "practice_years": 5, "active": True},
    ]
    staff = [
        {"id": ids[1], "code": "S1", "active_load": 3, "capacity": 5, "signed_in_at": "2026-12-01T01:00:00Z"},
        {"id": ids[2], "code": "S2", "active_load": 0, "capacity": 5},
    ]
    rows = cv.lawyer_rows(lawyers, staff, grave=True)
    assert [r["name"] for r in rows] == ["乙", "丙", "甲"]
    assert rows[0]["on_duty"] and rows[0]["code"] == "S1" and rows[0]["load"] == 3
    assert not rows[2]["usable"] and rows[2]["why_not"] == "cv.junior_art26"  # Art 26
    assert [r["name"] for r in cv.lawyer_rows(lawyers, staff, grave=False, q="丙")] == ["丙"]
    mediators = [
        {"staff_id": ids[0], "name": "调甲", "role": "mediator", "signed_in": False, "available": False,
         "unavailable_reason": "休假"},
        {"staff_id": ids[1], "name": "调乙", "role": "mediator", "signed_in": True, "available": True},
    ]  # fmt: skip
    rows = cv.mediator_rows(mediators, staff)
    assert [r["name"] for r in rows] == ["调乙", "调甲"] and rows[1]["why_not"] == "休假"


# ---------------------------------------------------------------- the pages themselves
CASE_ID = str(uuid.uuid4())
ORDER_ID = str(uuid.uuid4())
PARTY_A, PARTY_R = str(uuid.uuid4()), str(uuid.uuid4())
RAW = re.compile(r"\b[a-z]+_[a-z_]+\b|[0-9a-f]{8}-[0-9a-f]{4}-|\{\}|\[\]|\bTrue\b|\bFalse\b|\bNone\b")


def aid_payload() -> dict:
    return {
        "id": CASE_ID,
        "number": "FY140403202600001",
        "work_order_id": ORDER_ID,
        "county_code": "140403",
        "region_code": "140403",
        "status": "granted",
        "kind": "application",
        "source": "work_order",
        "applicant_name": "王秀英",
        "id_number_masked": None,
        "phone_masked": "138****7890",
        "applicant": {"name": "王秀英"},
        "proxy": None,
        "matter": {"category": "labour_pay", "cause": "追索劳动报酬", "stage": "仲裁", "opposing_parties": []},
        "requested_form": "arbitration_agency",
        "means": {"household_size": 3, "monthly_income": "1800", "verification": "honesty_commitment"},
        "exemption": None,
        "special_groups": ["migrant_worker"],
        "attachments": [{"kind": "identity", "name": ""}],
        "eligibility": {
            "eligible": True,
            "in_scope": True,
            "means_test": "passed",
            "basis": ["第三十一条：请求支付劳动报酬", "第四十一条：申请人书面作出个人诚信承诺"],
            "problems": [],
        },
        "missing_items": [],
        "deferred_items": [],
        "provide_first": False,
        "grave_penalty": False,
        "decision": {"outcome": "grant", "basis": ["第三十一条：请求支付劳动报酬"], "decided_at": "2026-12-01T02:00:00+00:00"},
        "assignment": None,
        "lawyer_id": None,
        "closure": None,
        "subsidy": None,
        "return_visit": None,
        "termination": None,
        "objection": None,
        "received_on": "2026-12-01",
        "opened_at": "2026-12-01T01:00:00+00:00",
        "allowed_actions": aid_domain.allowed_actions("granted"),
        "clocks": [
            {"name": "decision", "article": "法律援助法第四十三条", "started_on": "2026-12-01", "due": "2026-12-08",
             "warnings": [], "met_at": "2026-12-01T02:00:00+00:00", "cancelled_at": None, "breached_at": None},
        ],
    }  # fmt: skip


def mediation_payload() -> dict:
    party = {"kind": "person", "id_number_masked": None, "org_code": None, "legal_representative": None,
             "address": None, "consent_method": None, "consent_at": None, "refusal_reason": None,
             "sign_method": None, "signed_at": None}  # fmt: skip
    return {
        "id": CASE_ID,
        "number": "TJ140403202600001",
        "work_order_id": ORDER_ID,
        "county_code": "140403",
        "region_code": "140403001",
        "status": "mediating",
        "outcome": None,
        "mediator_staff_id": str(uuid.uuid4()),
        "staff_name": "张调解",
        "mediator_chosen_by": "committee",
        "dispute_type": "neighbour",
        "source": "application",
        "court_procedure": None,
        "committee_id": str(uuid.uuid4()),
        "due_date": "2027-01-04",
        "risk_flag": False,
        "opened_at": "2026-12-01T01:00:00+00:00",
        "summary": "空调外机噪音",
        "claims": "移走外机",
        "referral_body": None,
        "close_reason": None,
        "routes_told": None,
        "deadline_basis": "一般纠纷一个月内调结",
        "deadline_warnings": [],
        "extensions": [],
        "confirmation": None,
        "allowed_actions": med_domain.allowed_actions("mediating"),
        "parties": [
            {
                **party,
                "id": PARTY_A,
                "seq": 1,
                "side": "applicant",
                "name": "李桂英",
                "phone_masked": "139****5678",
                "consent": "given",
            },
            {
                **party,
                "id": PARTY_R,
                "seq": 2,
                "side": "respondent",
                "name": "赵建国",
                "phone_masked": None,
                "consent": "given",
            },
        ],  # fmt: skip
        "sessions": [
            {
                "id": str(uuid.uuid4()),
                "scheduled_at": "2026-12-03T01:30:00+00:00",
                "location": "调解室",
                "public": False,
                "invited": [],
                "status": "held",
                "attendance": {PARTY_A: True, PARTY_R: False},
                "notes": "申请人陈述",
                "held_at": "2026-12-03T02:00:00+00:00",
            },
        ],  # fmt: skip
        "agreement": None,
        "follow_ups": [],
        "recusals": [],
    }


def fake_backend(service: str):  # type: ignore[no-untyped-def]
    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == f"/v1/cases/{CASE_ID}":
            return httpx.Response(200, json=aid_payload() if service == "aid" else mediation_payload())
        if path == f"/v1/work-orders/{ORDER_ID}":
            return httpx.Response(
                200, json={"id": ORDER_ID, "number": "LW20261201000001", "status": "in_progress"}
            )
        if path.endswith("/log"):
            return httpx.Response(200, json=[{"action": "grant", "to_state": "granted", "at": "2026-12-01T02:00:00+00:00", "reason": None}])  # fmt: skip
        if path == "/v1/rules":
            return httpx.Response(200, json={"matters": {"labour_pay": "请求支付劳动报酬"}})
        return httpx.Response(200, json=[])

    return handle


@asynccontextmanager
async def console_with(service: str):  # type: ignore[no-untyped-def]
    app = create_app(ConsoleSettings(dev_login=True), intake=DOWN, dispatch=DOWN, aid=DOWN, mediation=DOWN, identity=DOWN)  # fmt: skip
    async with app.router.lifespan_context(app):
        urls = {n: f"http://{n}.test" for n in ("intake", "dispatch", "aid", "mediation", "identity")}
        app.state.backends = Backends(urls, transport=httpx.MockTransport(fake_backend(service)))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
            yield client


def visible_text(html: str) -> str:
    body = html.split("<main", 1)[1].split("</main>", 1)[0]
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", body, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


async def test_the_aid_page_shows_the_record_with_its_basis_and_only_the_states_step():
    async with console_with("aid") as c:
        await dev_login(c, "aid_officer", region="140403")
        html = (await c.get(f"/cases/aid/{CASE_ID}")).text
    text = visible_text(html)
    assert RAW.findall(text) == []
    assert "第四十一条：申请人书面作出个人诚信承诺" in text and "请求支付劳动报酬" in text
    assert "LW20261201000001" in text and f'href="/orders/{ORDER_ID}"' in html
    assert 'data-testid="step-assign"' in html and 'data-testid="step-application"' not in html
    assert "准予援助，待指派律师" in text and "劳动争议仲裁代理" in text


async def test_the_mediation_page_has_readable_parties_and_the_agreement_after_a_held_session():
    async with console_with("mediation") as c:
        await dev_login(c, "mediator", region="140403")
        html = (await c.get(f"/cases/mediation/{CASE_ID}")).text
    text = visible_text(html)
    assert RAW.findall(text) == []
    assert "赵建国：未到场" in text and "调委会指定" in text
    steps = re.findall(r'data-testid="step-([a-z-]+)"', html)
    assert steps[:4] == ["sessions", "agreement", "oral-agreement", "failure"]
    head = html.split('data-testid="case-parties"', 1)[1].split("</thead>", 1)[0]
    assert head.count("<th>") == 5  # the details live in each row's expansion
