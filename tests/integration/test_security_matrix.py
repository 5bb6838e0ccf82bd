"""Role × endpoint × jurisdiction, generated from every service's declared POLICY (function level,
and object level where a rule declares it: jurisdiction / holder / handler), plus the
OWASP API Top 10 (2023) items that apply: API1 object level (BOLA), API3 property level
(mass assignment), API5 function level, API4 resource consumption; and the hardening.

A route without a POLICY entry fails `test_every_route_has_a_policy_entry`; the matrix
then probes every route with a token of every role (and none) on real running services.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid

import httpx
import pytest
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import select

from libs.common.auth import ROLES, Rule, object_visible
from libs.common.config import SERVICES
from libs.common.events import dispatch as dispatch_events
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, services, wait_for
from services.dispatch.models import Staff
from services.intake.models import OrderHandler, Task

POLICY_DENIALS = {"role_forbidden", "no_rule"}
SOME_ID = "00000000-0000-4000-8000-000000000000"


def api_routes(app) -> list[tuple[str, str, APIRoute]]:  # type: ignore[no-untyped-def]
    """(METHOD, full path template, route) for every API route, whatever FastAPI's router nesting."""
    try:
        from fastapi.routing import iter_route_contexts

        contexts = [(rc.path, rc.methods, rc.original_route) for rc in iter_route_contexts(app.routes)]
    except ImportError:  # older FastAPI: routes are flat
        contexts = [(r.path, r.methods, r) for r in app.routes]
    return [
        (m, path, route)
        for path, methods, route in contexts
        if isinstance(route, APIRoute)
        for m in sorted(methods or ())
        if m != "HEAD"
    ]


def _apps():
    return {s: importlib.import_module(f"services.{s}.main").create_app() for s in SERVICES}


APPS = _apps()
CASES = [
    (svc, method, path, app.state.policy.get(f"{method} {path}"))
    for svc, app in APPS.items()
    for method, path, _ in api_routes(app)
]


def test_every_route_has_a_policy_entry_and_no_entry_is_stale():
    missing = [f"{svc}: {m} {p}" for svc, m, p, rule in CASES if rule is None]
    assert not missing, f"routes without a POLICY entry (deny by default, but declare them): {missing}"
    for svc, app in APPS.items():
        declared = {f"{m} {p}" for m, p, _ in api_routes(app)}
        stale = set(app.state.policy) - declared
        assert not stale, f"{svc}: POLICY entries for routes that do not exist: {stale}"
    assert len(CASES) >= 30  # the five services' routes are all here


def _body_models(route: APIRoute) -> list[type[BaseModel]]:
    out = []
    for param in route.dependant.body_params:
        ann = param.field_info.annotation
        for t in getattr(ann, "__args__", (ann,)):
            if isinstance(t, type) and issubclass(t, BaseModel):
                out.append(t)
    return out


def test_request_models_forbid_unknown_fields():
    """API3 (property level): no request can smuggle status, assignee or owner fields in."""
    lax = [
        f"{svc} {m} {p}: {model.__name__}"
        for svc, app in APPS.items()
        for m, p, route in api_routes(app)
        for model in _body_models(route)
        if model.model_config.get("extra") != "forbid"
    ]
    assert not lax, f"request models must use extra='forbid': {lax}"


def _url(path: str) -> str:
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            path = path.replace(part, SOME_ID)
    return path


async def _call(client: httpx.AsyncClient, method: str, path: str, headers: dict) -> tuple[int, dict]:
    kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    async with client.stream(method, _url(path), headers=headers, **kwargs) as r:
        if "text/event-stream" in r.headers.get("content-type", ""):
            return r.status_code, {}  # a live stream: the status is all we need
        await r.aread()
        try:
            body = r.json()
        except ValueError:
            body = {}
        if isinstance(body, list) and body and isinstance(body[0], dict):  # Open311's error array
            return r.status_code, {"code": r.headers.get("x-lawline-denial")}
        return r.status_code, body if isinstance(body, dict) else {}


def _expectation(rule: Rule, role: str | None) -> str:
    if rule.public:
        return "allowed"
    if role is None:
        return "unauthenticated"
    return "allowed" if role in rule.roles else "forbidden"


@pytest.fixture(scope="module")
async def stack(infra):
    async with services(infra, *SERVICES) as running:
        await consumers_ready(*running.values())
        yield running


# Prometheus' scrape endpoint speaks its own text format, not the API's contract.
UNDOCUMENTED = {"/metrics"}


async def test_role_endpoint_matrix(stack):
    failures: list[str] = []
    sem = asyncio.Semaphore(16)
    clients = {svc: stack[svc].client() for svc in stack}  # one client each: creating one is costly
    # Every status met must be one the service's own document lists for that operation (#17).
    documents = {svc: (await clients[svc].get("/openapi.json")).json()["paths"] for svc in stack}

    async def probe(svc: str, method: str, path: str, rule: Rule, role: str | None) -> None:
        # A fresh token per call: the matrix also hits logout, which revokes the token it was given.
        headers = auth(role, region="1404", staff_id=str(uuid.uuid4())) if role else {}
        async with sem:
            status, body = await _call(clients[svc], method, path, headers)
        want = _expectation(rule, role)
        code = body.get("code")
        ok = {
            "allowed": status != 401 and not (status == 403 and code in POLICY_DENIALS),
            "unauthenticated": status == 401 and code == "unauthenticated",
            "forbidden": status == 403 and code == "role_forbidden",
        }[want]
        if not ok:
            failures.append(
                f"{svc} {method} {path} as {role or 'anonymous'}: want {want}, got {status} {code}"
            )
        listed = documents[svc].get(path, {}).get(method.lower(), {}).get("responses", {})
        if path not in UNDOCUMENTED and str(status) not in listed:
            failures.append(
                f"{svc} {method} {path} as {role or 'anonymous'}: {status} not in its document {sorted(listed)}"
            )

    try:
        await asyncio.gather(
            *(
                probe(svc, method, path, rule, role)
                for svc, method, path, rule in CASES
                for role in (*ROLES, None)
            )
        )
    finally:
        for c in clients.values():
            await c.aclose()
    assert not failures, "\n".join(failures)


ORDER = {
    "channel": "hotline",
    "requester": {"name": "王秀英", "phone": "13834567890"},
    "region_code": "140430003",  # a township of 沁县
    "service_type": "legal_aid",
    "description": "老板拖欠我三个月工资一万八，想申请法律援助。",
}


async def test_object_level_jurisdiction_and_assignee_checks(stack):
    """API1 (BOLA): 潞州区 staff get 404 on a 沁县 order; only the offered person can accept."""
    async with stack["intake"].client(headers=auth("operator", region="140430")) as c:
        r = await c.post("/v1/work-orders", json=ORDER)
        assert r.status_code == 201, r.text
        order = r.json()
    path = f"/v1/work-orders/{order['id']}"
    for role, region, want in [
        ("operator", "140403", 404),
        ("counter_staff", "140403", 404),
        ("lawyer", "140403", 404),
        ("operator", "140430", 200),
        ("supervisor", "1404", 200),
        ("operator", "14", 200),
    ]:
        async with stack["intake"].client(headers=auth(role, region=region)) as c:
            assert (await c.get(path)).status_code == want, (role, region)
    # Nobody files orders outside their own jurisdiction either.
    async with stack["intake"].client(headers=auth("operator", region="140403")) as c:
        assert (await c.post("/v1/work-orders", json=ORDER)).status_code == 404

    async with stack["dispatch"].client(headers=auth("supervisor")) as d:

        async def offered():
            rows = (await d.get("/v1/assignments", params={"work_order_id": order["id"]})).json()
            return rows if rows and rows[0]["status"] == "offered" else None

        offer = (await wait_for(offered, timeout=15, what="the offer"))[0]
        decision = f"/v1/work-orders/{order['id']}/decision"
        async with stack["dispatch"].client(headers=auth("operator", region="140403")) as other:
            assert (await other.get(decision)).status_code == 404
            assert (await other.get("/v1/assignments", params={"work_order_id": order["id"]})).json() == []
    intruder = auth("aid_officer", region="140430", staff_id=str(uuid.uuid4()))
    async with stack["dispatch"].client(headers=intruder) as c:
        r = await c.post(f"/v1/assignments/{offer['id']}/accept")
        assert r.status_code == 404
        r = await c.get("/v1/inbox", params={"staff_id": offer["staff_id"]})
        assert r.status_code == 403  # someone else's inbox
    owner = auth("aid_officer", region="140430", staff_id=offer["staff_id"])
    async with stack["dispatch"].client(headers=owner) as c:
        assert (await c.post(f"/v1/assignments/{offer['id']}/accept")).status_code == 200
    # The aid case that follows: visible to its county and its handler, not to other lawyers.
    async with stack["aid"].client(headers=owner) as c:

        async def opened():
            return (await c.get("/v1/cases", params={"work_order_id": order["id"]})).json() or None

        case = (await wait_for(opened, timeout=15, what="the aid case"))[0]
    for headers, want in [
        (auth("lawyer", region="140430", staff_id=str(uuid.uuid4())), 404),
        (auth("aid_officer", region="140403"), 404),
        (auth("supervisor", region="1404"), 200),
    ]:
        async with stack["aid"].client(headers=headers) as c:
            assert (await c.get(f"/v1/cases/{case['id']}")).status_code == want
            listed = (await c.get("/v1/cases", params={"work_order_id": order["id"]})).json()
            assert len(listed) == (1 if want == 200 else 0)
    # Both kinds of state change are in dispatch's audit trail: event-driven (the offer, made by
    # the service itself) and human (the acceptance, by the person, from their address).
    async with stack["dispatch"].client(headers=auth("audit_admin")) as c:
        entries = (await c.get("/v1/audit/entries", params={"limit": 500})).json()
        assert (await c.get("/v1/audit/verify")).json()["ok"]
    by_action = {e["action"]: e for e in entries}
    assert by_action[dispatch_events.OFFERED]["actor"] == "system:dispatch"
    accepted = by_action[dispatch_events.ASSIGNED]
    assert accepted["actor"] == offer["staff_id"] and accepted["ip"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("path", "field"), [("/v1/service-points", "region_code"), ("/v1/staff", "county_code")]
)
async def test_lists_never_include_other_jurisdictions(stack, path, field):
    async with stack["dispatch"].client(headers=auth("counter_staff", region="140403")) as c:
        rows = (await c.get(path, params={"limit": 1000})).json()
        leaked = (await c.get(path, params={"county_code": "140430", "limit": 1000})).json()
    assert rows and all(r[field].startswith("140403") for r in rows)
    assert leaked == []


async def test_mass_assignment_is_refused(stack):
    """API3: status, assignee and ownership cannot be set through the create body."""
    async with stack["intake"].client(headers=auth("operator")) as c:
        for extra in (
            {"status": "closed"},
            {"assignee": SOME_ID},
            {"staff_id": SOME_ID},
            {"county_code": "140403"},
        ):
            r = await c.post("/v1/work-orders", json={**ORDER, **extra})
            assert r.status_code == 422
            errors = r.json()["errors"]
            assert [e["field"] for e in errors] == list(extra) and errors[0]["code"] == "extra_forbidden"


async def test_resource_limits_headers_and_cors(stack):
    """API4: oversized bodies get 413 (declared or chunked); lists are capped; hardening headers."""
    async with stack["intake"].client(headers=auth("operator")) as c:
        big = {**ORDER, "description": "很" * 600_000}
        r = await c.post("/v1/work-orders", json=big)
        assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"

        async def chunks():
            for _ in range(40):
                yield b"x" * 65536

        r = await c.post("/v1/work-orders", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        r = await c.get(f"/v1/work-orders/{SOME_ID}")
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        assert (
            r.headers["cache-control"] == "no-store"
            and "default-src 'none'" in r.headers["content-security-policy"]
        )
        assert "traceback" not in r.text.lower()
    async with stack["intake"].client(headers=auth("audit_admin")) as c:
        assert (await c.get("/v1/audit/entries", params={"limit": 100_000})).status_code == 422
    async with stack["intake"].client() as c:
        pre = {"access-control-request-method": "POST", "access-control-request-headers": "authorization"}
        ok = await c.options("/v1/work-orders", headers={"origin": "http://127.0.0.1:8000", **pre})
        assert ok.headers.get("access-control-allow-origin") == "http://127.0.0.1:8000"
        evil = await c.options("/v1/work-orders", headers={"origin": "https://evil.example", **pre})
        assert "access-control-allow-origin" not in evil.headers


# ---- object level, generated from the rules' `objects` (libs.common.auth.object_access) --------
# Every rule that declares object-level access is probed, for every role it lets in, by three
# callers: inside the order's jurisdiction, outside it but holding the order (offered to them,
# then accepted: a transfer across counties), and outside it with nothing — and the outcome must
# be what `object_visible` says for that role's grants.
OBJECT_CASES = [
    (svc, m, p, rule) for svc, m, p, rule in CASES if rule is not None and rule.objects is not None
]
HOME, AWAY = "140430", "140429"  # the order's county (沁县), the holder's (武乡县)
# Non-GET object routes are probed with a body that passes the object check and is then refused,
# or changes nothing, so probing leaves the orders as they were; a new rule without one fails.
PROBE_BODIES = {
    "PATCH /v1/work-orders/{order_id}": lambda ids: {"reason": "核对信息"},  # no change: nothing announced
    "PUT /v1/work-orders/{order_id}/classification": lambda ids: {"reason": "核对分类"},  # the same facts
    "POST /v1/work-orders/{order_id}/merge": lambda ids: {
        "into": ids["order_id"],
        "reason": "核对",
    },  # 422: itself
    "POST /v1/work-orders/{order_id}/unmerge": lambda ids: {"reason": "核对"},  # 409: not merged
    "POST /v1/work-orders/{order_id}/county-transfer": lambda ids: {
        "region_code": f"{HOME}001",
        "reason": "核对",
    },
    "POST /v1/work-orders/{order_id}/close": lambda ids: {
        "result_summary": "核对办结"
    },  # 409: a child is open
    "POST /v1/work-orders/{order_id}/cancel": lambda ids: {"reason": "核对撤销"},  # 409: a child is open
    "POST /v1/work-orders/{order_id}/rating": lambda ids: {"score": 5},  # 409: not closed
    "POST /v1/tasks/{task_id}/attempts": lambda ids: {"outcome": "no_answer"},
    "POST /v1/work-orders/{work_order_id}/transfer": lambda ids: {
        "to_staff_id": SOME_ID,
        "reason": "核对",
    },  # 422
}


def test_every_object_rule_can_be_probed():
    missing = [
        f"{svc} {m} {p}" for svc, m, p, _ in OBJECT_CASES if m != "GET" and f"{m} {p}" not in PROBE_BODIES
    ]
    assert not missing, f"object-level rules without a harmless probe body: {missing}"
    assert len(OBJECT_CASES) >= 10


def _object_request(method: str, path: str, route: APIRoute, ids: dict[str, str]) -> dict:
    url = path
    for name in ("order_id", "work_order_id", "task_id"):
        url = url.replace("{" + name + "}", ids["task_id" if name == "task_id" else "order_id"])
    values = {"reason": "回拨核实身份", "work_order_id": ids["order_id"], "q": ids["number"]}
    params = {q.name: values[q.name] for q in route.dependant.query_params if q.name in values}
    out: dict = {"method": method, "url": url, "params": params}
    if method != "GET":
        out["json"] = PROBE_BODIES[f"{method} {path}"](ids)
    return out


async def _hold(stack, *, order: dict, holder: str, accept: bool) -> None:
    """Transfer the order (by a supervisor, through dispatch) to `holder` of 武乡县; accept it if told."""
    async with stack["dispatch"].client(headers=auth("supervisor", region="1404")) as d:

        async def offered():  # type: ignore[no-untyped-def]
            rows = (await d.get("/v1/assignments", params={"work_order_id": order["id"]})).json()
            return rows if rows and rows[0]["status"] == "offered" else None

        await wait_for(offered, timeout=15, what="the first offer")
        r = await d.post(
            f"/v1/work-orders/{order['id']}/transfer", json={"to_staff_id": holder, "reason": "转办"}
        )
        assert r.status_code == 200, r.text
        offer = r.json()
    if accept:
        async with stack["dispatch"].client(headers=auth("aid_officer", region=AWAY, staff_id=holder)) as d:
            assert (await d.post(f"/v1/assignments/{offer['id']}/accept")).status_code == 200
    want = "accepted" if accept else "offered"

    async def learnt():  # type: ignore[no-untyped-def]
        async with stack["intake"].rt.sessionmaker() as s:
            state = await s.scalar(
                select(OrderHandler.state).where(
                    OrderHandler.work_order_id == uuid.UUID(order["id"]),
                    OrderHandler.staff_id == holder,
                    OrderHandler.until.is_(None),
                )
            )
        return state == want

    await wait_for(learnt, timeout=15, what=f"intake to learn the holder ({want})")


async def _order_with_child(intake) -> dict:  # type: ignore[no-untyped-def]
    """An order of 沁县 with an open child order (so probing `close` can never close it)."""
    async with intake.client(headers=auth("operator", region=HOME)) as c:
        phone = f"137{uuid.uuid4().int % 10**8:08d}"
        r = await c.post("/v1/work-orders", json={**ORDER, "requester": {"name": "辛某", "phone": phone}})
        assert r.status_code == 201, r.text
        order = r.json()
        child = {
            **ORDER,
            "requester": {"name": "辛某", "phone": phone},
            "parent_id": order["id"],
            "service_type": "mediation",
            "description": "另有邻里纠纷需要调解。",
        }
        assert (await c.post("/v1/work-orders", json=child)).status_code == 201
    async with intake.rt.sessionmaker() as s:
        task = await s.scalar(select(Task.id).where(Task.work_order_id == uuid.UUID(order["id"])))
    return {"order_id": order["id"], "number": order["number"], "task_id": str(task), "id": order["id"]}


async def test_object_level_rules_hold_for_every_role_and_caller(stack):
    """Access follows the work: jurisdiction, or holding (then handling) the order — across counties."""
    async with stack["dispatch"].rt.sessionmaker() as s:
        holder = str(
            await s.scalar(
                select(Staff.id)
                .where(Staff.county_code == AWAY, Staff.role == "aid_officer")
                .order_by(Staff.code)
            )
        )
    phases = {}
    for phase, accepted in (("offered", False), ("accepted", True)):
        ids = await _order_with_child(stack["intake"])
        await _hold(stack, order=ids, holder=holder, accept=accepted)
        phases[phase] = ids
    routes = {(svc, m, p): route for svc, app in APPS.items() for m, p, route in api_routes(app)}
    failures: list[str] = []
    wanted: list[bool] = []
    clients = {svc: stack[svc].client() for svc in stack}
    sem = asyncio.Semaphore(16)

    async def probe(phase: str, svc: str, method: str, path: str, rule: Rule, role: str, caller: str) -> None:
        ids = phases[phase]
        region, staff = {"inside": (HOME, None), "holder": (AWAY, holder), "outside": (AWAY, None)}[caller]
        headers = auth(role, region=region, staff_id=staff or str(uuid.uuid4()))
        assert rule.objects is not None
        want = object_visible(
            rule.objects.grants(frozenset({role})),
            in_jurisdiction=caller == "inside",
            holds=caller == "holder",
            handles=caller == "holder" and phase == "accepted",
        )
        wanted.append(want)
        req = _object_request(method, path, routes[(svc, method, path)], ids)
        async with sem:
            r = await clients[svc].request(headers=headers, **req)
        if "{" in path:  # one object: found or not
            seen = r.status_code not in (401, 403, 404)
            bad = r.status_code in (401, 403) or r.status_code >= 500
        else:  # a list: the order is in it or not
            seen = r.status_code == 200 and ids["order_id"] in r.text
            bad = r.status_code != 200
        if bad or seen != want:
            failures.append(
                f"{phase}: {svc} {method} {path} as {role} ({caller}): want {'seen' if want else 'hidden'}, "
                f"got {r.status_code} {r.text[:120]}"
            )

    def probes(phase: str, get: bool):  # type: ignore[no-untyped-def]
        return [
            probe(phase, svc, m, p, rule, role, caller)
            for svc, m, p, rule in OBJECT_CASES
            if (m == "GET") == get
            for role in sorted(rule.roles)
            for caller in ("inside", "holder", "outside")
        ]

    try:
        for phase in phases:  # reads first: the mutations' probes may complete the callback task
            await asyncio.gather(*probes(phase, get=True))
            await asyncio.gather(*probes(phase, get=False))
    finally:
        for c in clients.values():
            await c.aclose()
    assert not failures, "\n".join(failures)
    # Both outcomes, many times over: the matrix really tells the callers apart.
    assert wanted.count(True) > 100 and wanted.count(False) > 100, (wanted.count(True), wanted.count(False))
