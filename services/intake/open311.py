"""Open311 GeoReport v2 (JSON and XML) at /open311/v2/: legal service types as Open311 services.

Discovery (services) and reads (requests) need no key, as the spec says, and publish only public
data: number, status, service, county/region code, dates — no names, phones, ID numbers or free
text. Filing (POST) and tokens need a key. `jurisdiction_id`, when sent, must be ours
(JURISDICTION_ID); the location is `address_id`, or `address_string` naming a county of 长治市;
`lat`/`long` alone is refused (no coordinates held). The four GETs also answer as XML with a
`.xml` suffix; POST and tokens stay JSON (an XML 401 would hide the denial code from the access
matrix, tests/integration/test_security_matrix.py, which reads JSON error arrays only).

Requests become ordinary work orders (channel external, source "open311"), so they are
validated, classified, de-duplicated and dispatched like any other. Errors follow the spec:
a JSON array of {code, description}. `service_request_id` is our order number; `token` is
the order id (requests are created synchronously, so the token resolves at once).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile

from libs.common import regions
from libs.common.auth import Principal, ensure_visible, principal
from libs.common.openapi_examples import ok
from libs.common.problems import FieldProblem, Problem, translate_validation_error
from services.intake import create, domain, queries, validation
from services.intake.models import WorkOrder
from services.intake.schemas import WorkOrderCreate
from services.intake.webhooks.record import handler_unit

OPEN311_FIELD = {
    "requester.phone": "phone",
    "requester.name": "first_name",
    "requester.id_number": "attribute[id_number]",
    "region_code": "address_id",
    "domain": "attribute[domain]",
    "special_groups": "attribute[special_groups]",
}
JURISDICTION_ID = "changzhi.gov.cn"  # 长治市 (140400): the only jurisdiction served here
NO_NAME = "Open311 未留名"  # first_name/last_name are optional in the spec; our order needs a name
PUBLIC_NOTE = (
    "（公开查询只显示工单号、状态、服务类型、区划和时间；描述等个人信息不公开。"
    "提交时 phone 必填：12348 对每个工单都回访来电人；姓名可不填）"
)
MAX_RESULTS = 1000  # spec: default window 90 days, at most 1000 requests
SERVICE_DESCRIPTIONS = {
    "consultation": "法律问题咨询，由 12348 或律师、基层法律服务工作者答复",
    "legal_aid": "申请法律援助（法律援助法）",
    "mediation": "人民调解：邻里、婚姻家庭、合同、损害赔偿等纠纷",
    "notarization": "公证事项办理咨询",
    "judicial_appraisal": "司法鉴定委托咨询",
    "lawyer_referral": "推荐律师",
    "complaint": "对法律服务机构或人员的投诉",
    "administrative_reconsideration": "行政复议申请",
    "community_correction": "社区矫正事项",
    "resettlement": "刑满释放人员安置帮教",
    "legal_publicity": "普法宣传需求",
    "suggestion": "意见建议",
}


def _xml_value(parent: ET.Element, tag: str, value: Any) -> None:
    el = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml_value(el, k, v)
    elif isinstance(value, list):  # attributes → attribute, values → value (the spec's shape)
        for v in value:
            _xml_value(el, tag[:-1] if tag.endswith("s") else "item", v)
    elif isinstance(value, bool):
        el.text = "true" if value else "false"
    elif value is not None:
        el.text = str(value)


def xml_body(root: str, item: str | None, data: Any) -> bytes:
    """`<services><service>…` / `<service_requests><request>…` / `<service_definition>…`."""
    top = ET.Element(root)
    if item is None:
        for k, v in data.items():
            _xml_value(top, k, v)
    else:
        for row in data:
            _xml_value(top, item, row)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def _is_xml(request: Request) -> bool:
    return request.url.path.endswith(".xml")


def _errors(
    status: int, items: list[tuple[str, str]], reason: str | None = None, *, xml: bool = False
) -> Response:
    body = [{"code": status, "description": f"{f}: {d}" if f else d} for f, d in items]
    # The body stays exactly as the spec says; why an access check said no (role_forbidden, …) rides
    # in a header, as the problem+json `code` does on every other route.
    headers = {"X-Lawline-Denial": reason} if reason else None
    if xml:
        return Response(
            xml_body("errors", "error", body), status, headers=headers, media_type="application/xml"
        )
    return JSONResponse(body, status_code=status, headers=headers)


def _out(request: Request, data: Any, root: str, item: str | None, status: int = 200) -> Response:
    if _is_xml(request):
        return Response(xml_body(root, item, data), status, media_type="application/xml")
    return JSONResponse(data, status_code=status)


class Open311Route(APIRoute):
    """Spec-shaped errors for every failure on these routes, authentication included."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            xml = _is_xml(request)
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errs = [translate_validation_error(e) for e in exc.errors()]
                return _errors(400, [(e["field"], e["message_en"]) for e in errs], xml=xml)
            except FieldProblem as exc:
                return _errors(400, [(e["field"], e["message_en"]) for e in exc.errors], xml=xml)
            except Problem as exc:
                return _errors(exc.status, [("", exc.detail_en)], exc.extra.get("code"), xml=xml)

        return wrapped


def check_jurisdiction(value: str | None) -> None:
    if value and value.strip() and value.strip() != JURISDICTION_ID:
        raise Problem(
            404,
            "未知辖区",
            f"unknown jurisdiction_id {value.strip()}: this endpoint serves {JURISDICTION_ID}",
        )


async def jurisdiction(
    jurisdiction_id: Annotated[str | None, Query(description=f"辖区，缺省或 {JURISDICTION_ID}")] = None,
) -> None:
    check_jurisdiction(jurisdiction_id)


router = APIRouter(
    prefix="/open311/v2",
    tags=["open311"],
    route_class=Open311Route,
    dependencies=[Depends(jurisdiction)],
)
Who = Annotated[Principal, Depends(principal)]


def service_def(code: str) -> dict[str, Any]:
    return {
        "service_code": code,
        "service_name": validation.SERVICE_TYPES[code],
        "description": SERVICE_DESCRIPTIONS[code] + PUBLIC_NOTE,
        "metadata": True,
        "type": "realtime",
        "keywords": code.replace("_", " "),
        "group": "12348 公共法律服务",
    }


SERVICES_OK = ok([service_def("legal_aid")])


@router.get("/services.json", summary="Open311 service list (legal service types)", responses=SERVICES_OK)
@router.get("/services.xml", summary="Open311 service list (XML)", responses=SERVICES_OK)
async def services(request: Request) -> Response:
    return _out(request, [service_def(c) for c in validation.SERVICE_TYPES], "services", "service")


DEFINITION_404 = ok([{"code": 404, "description": "unknown service_code"}], status=404)


def _definition(code: str) -> dict:
    if code not in validation.SERVICE_TYPES:
        raise Problem(404, "未知服务", f"unknown service_code {code}")
    values = lambda table: [{"key": k, "name": n} for k, n in table.items()]  # noqa: E731
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": "domain",
                "datatype": "singlevaluelist",
                "required": False,
                "order": 1,
                "datatype_description": "法律领域",
                "description": "法律领域（缺省时自动分类）",
                "values": values(validation.DOMAINS),
            },
            {
                "variable": True,
                "code": "special_groups",
                "datatype": "multivaluelist",
                "required": False,
                "order": 2,
                "datatype_description": "特殊群体",
                "description": "特殊群体（四优先）",
                "values": values(validation.SPECIAL_GROUPS),
            },
            {
                "variable": True,
                "code": "id_number",
                "datatype": "string",
                "required": False,
                "order": 3,
                "datatype_description": "18 位居民身份证号",
                "description": "身份证号（加密保存）",
            },
            {
                "variable": True,
                "code": "reference",
                "datatype": "string",
                "required": False,
                "order": 4,
                "datatype_description": "对方系统单号",
                "description": "来源系统的单号：重复提交返回同一工单",
            },
        ],
    }


DEFINITION_OK = {**DEFINITION_404, **ok(_definition("legal_aid"))}


@router.get(
    "/services/{code}.json", summary="Open311 service definition (attributes)", responses=DEFINITION_OK
)
@router.get("/services/{code}.xml", summary="Open311 service definition (XML)", responses=DEFINITION_OK)
async def service_definition(code: str, request: Request) -> Response:
    return _out(request, _definition(code), "service_definition", None)


def region_from_address(text: str) -> str | None:
    """The county of 长治市 the address names (潞州区 or just 潞州), None if none or several."""
    found = {
        c.code for c in regions.counties() if c.name in text or (len(c.name) > 2 and c.name[:-1] in text)
    }
    return found.pop() if len(found) == 1 else None


def _text(form: FormData, name: str) -> str:
    """A form field's text, stripped ("" when absent); a file sent in its place is refused."""
    value = form.get(name)
    if isinstance(value, UploadFile):
        raise FieldProblem(name, "须为文本，不能是文件", "must be a text field, not a file")
    return (value or "").strip()


def location(form: FormData) -> str:
    """Spec: one of address_id, address_string or lat+long — address_id wins when several are sent."""
    region = _text(form, "address_id")
    if region:
        return region
    text = _text(form, "address_string")
    if text:
        found = region_from_address(text)
        if found is None:
            raise FieldProblem(
                "address_string",
                "地址未包含长治市的区县名称",
                "address_string must name one county of 长治市 (e.g. 潞州区, 沁县); or send address_id",
            )
        return found
    if _text(form, "lat") or _text(form, "long"):
        raise FieldProblem(
            "lat",
            "不支持经纬度定位，请提供 address_id 或 address_string",
            "lat/long cannot be mapped to a region here: send address_id or address_string",
        )
    raise FieldProblem(
        "address_id",
        "需要位置",
        "a location is required: address_id (county, township or village code), address_string or lat/long",
    )


def _phone(form: FormData) -> str:
    phone = _text(form, "phone")
    if not phone:
        raise FieldProblem(
            "phone",
            "必填：12348 对每个工单都要回访来电人，请提供联系电话",
            "required here: 12348 calls every requester back (回访), so a phone number is needed",
        )
    return phone


def _required(form: FormData, name: str) -> str:
    value = _text(form, name)
    if not value:
        raise FieldProblem(name, "必填项", "required")
    return value


@router.post(
    "/requests.json",
    status_code=201,
    summary="Open311 create request (form-encoded)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "example": {
                        "service_code": "mediation",
                        "address_id": "140403",
                        "first_name": "建国",
                        "last_name": "李",
                        "phone": "13834567890",
                        "description": "邻居家空调外机噪音大还滴水，希望调解。",
                    }
                }
            }
        }
    },
    responses={
        201: {
            "content": {
                "application/json": {
                    "example": [
                        {
                            "service_request_id": "LW20261124000123",
                            "token": "3f1c0a8e-…",
                            "service_notice": "已受理",
                            "account_id": None,
                        }
                    ]
                }
            }
        },
        400: {
            "content": {
                "application/json": {"example": [{"code": 400, "description": "phone: invalid phone…"}]}
            }
        },
    },
)
async def post_request(request: Request, who: Who) -> Response:
    form = await request.form()
    code = _required(form, "service_code")
    if code not in validation.SERVICE_TYPES:
        raise FieldProblem("service_code", "未知服务", f"unknown service_code {code}; see services.json")
    check_jurisdiction(_text(form, "jurisdiction_id"))
    region = location(form)
    name = f"{_text(form, 'last_name')}{_text(form, 'first_name')}"
    # email is accepted and not stored (an order holds a phone for the callback, not an email).
    raw: dict[str, Any] = {
        "channel": "external",
        # Unlike the spec's optional phone: every 12348 order ends with a callback (回访) to the
        # requester, and the phone is how the citizen tracks the order too (DOMAIN.md, hotline norms).
        "requester": {"name": name or NO_NAME, "phone": _phone(form)},
        "region_code": region,
        "service_type": code,
        "description": _required(form, "description"),
        "special_groups": form.getlist("attribute[special_groups][]")
        or form.getlist("attribute[special_groups]"),
    }
    if form.get("attribute[domain]"):
        raw["domain"] = form.get("attribute[domain]")
    if form.get("attribute[id_number]"):
        raw["requester"]["id_number"] = form.get("attribute[id_number]")
    ref = form.get("attribute[reference]")
    raw["external"] = {
        "source": "other",
        "reference": f"open311:{who.sub}:{ref}" if ref else f"open311:{uuid.uuid4()}",
    }
    try:
        data = WorkOrderCreate.model_validate(raw)
    except ValidationError as exc:  # → spec errors naming the Open311 field, not our JSON path
        problem = FieldProblem("", "", "")
        problem.errors = [
            {**e, "field": OPEN311_FIELD.get(e["field"], e["field"])}
            for e in (translate_validation_error(dict(err)) for err in exc.errors())
        ]
        raise problem from exc
    rt = request.app.state.rt
    now = rt.clock.now()
    async with rt.sessionmaker() as session, session.begin():
        out = await create.create_work_order(session, data=data, now=now, who=who)
    notice = (
        "已受理"
        if out.duplicate_of is None
        else f"与在办工单 {out.duplicate_of.number} 为同一事项，已并单催办"
    )
    body = [
        {
            "service_request_id": out.order.number,
            "token": str(out.order.id),
            "service_notice": notice,
            "account_id": None,
        }
    ]
    return _out(request, body, "service_requests", "request", 200 if out.replayed else 201)


def request_out(o: WorkOrder, agency: str | None = None) -> dict[str, Any]:
    return {
        "service_request_id": o.number,
        "status": "closed" if o.status in domain.TERMINAL else "open",
        "status_notes": queries.STATUS_ZH.get(o.status, o.status),
        "service_name": validation.SERVICE_TYPES.get(o.service_type, o.service_type),
        "service_code": o.service_type,
        "description": None,  # free text may hold personal data: not published
        "agency_responsible": agency or "12348 公共法律服务",
        "service_notice": None,
        "requested_datetime": o.created_at.isoformat(),
        "updated_datetime": o.updated_at.isoformat(),
        "expected_datetime": o.due_at.isoformat() if o.due_at else None,
        "address": None,
        "address_id": o.region_code,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


REQUEST_EXAMPLE = {
    "service_request_id": "LW20261124000123",
    "status": "open",
    "status_notes": "已接单",
    "service_name": "人民调解",
    "service_code": "mediation",
    "description": None,
    "agency_responsible": "12348 公共法律服务",
    "service_notice": None,
    "requested_datetime": "2026-11-24T09:36:00+08:00",
    "updated_datetime": "2026-11-24T10:02:00+08:00",
    "expected_datetime": "2026-12-01T23:59:59+08:00",
    "address": None,
    "address_id": "140403",
    "zipcode": None,
    "lat": None,
    "long": None,
    "media_url": None,
}
LIST_OK = ok([REQUEST_EXAMPLE])


@router.get(
    "/requests.json",
    summary="Open311 request list (spec filters; 90 days / 1000 max by default)",
    responses=LIST_OK,
)
@router.get("/requests.xml", summary="Open311 request list (XML)", responses=LIST_OK)
async def get_requests(
    request: Request,
    who: Who,
    service_request_id: Annotated[str | None, Query(description="逗号分隔的工单号")] = None,
    service_code: str | None = None,
    start_date: datetime | None = None,
    end_date: datetime | None = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)(,(open|closed))?$")] = None,
) -> Response:
    rt = request.app.state.rt
    q = select(WorkOrder)
    region = queries.effective_region(who, None)
    if region:
        q = q.where(WorkOrder.region_code.like(region + "%"))
    if service_request_id:
        q = q.where(WorkOrder.number.in_([s.strip().upper() for s in service_request_id.split(",")][:100]))
    else:
        end = end_date or rt.clock.now()
        q = q.where(
            WorkOrder.created_at >= (start_date or end - timedelta(days=90)), WorkOrder.created_at <= end
        )
    if service_code:
        q = q.where(WorkOrder.service_type == service_code)
    if status and "," not in status:
        terminal = WorkOrder.status.in_(domain.TERMINAL)
        q = q.where(terminal if status == "closed" else ~terminal)
    async with rt.sessionmaker() as session:
        rows = (await session.scalars(q.order_by(WorkOrder.created_at.desc()).limit(MAX_RESULTS))).all()
    return _out(request, [request_out(o) for o in rows], "service_requests", "request")


async def _one(request: Request, who: Principal, **where: Any) -> WorkOrder:
    async with request.app.state.rt.sessionmaker() as session:
        order = await session.scalar(select(WorkOrder).filter_by(**where))
    if order is None:
        raise Problem(404, "未找到", "service request not found")
    ensure_visible(who, order.region_code)
    return order


@router.get("/requests/{request_id}.json", summary="Open311 one request", responses=LIST_OK)
@router.get("/requests/{request_id}.xml", summary="Open311 one request (XML)", responses=LIST_OK)
async def get_request(request_id: str, request: Request, who: Who) -> Response:
    order = await _one(request, who, number=request_id.upper())
    # The handler unit once dispatch assigned it (kept for externally filed orders: webhooks).
    one = [request_out(order, await handler_unit(request.app.state.rt.sessionmaker, order.id))]
    return _out(request, one, "service_requests", "request")


@router.get(
    "/tokens/{token}.json",
    summary="Open311 token → service_request_id",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": [
                        {
                            "service_request_id": "LW20261124000123",
                            "token": "3f1c0a8e-6a55-4f3e-9b8e-0d6f0f9f2a11",
                        }
                    ]
                }
            }
        }
    },
)
async def get_token(token: str, request: Request, who: Who) -> list[dict]:
    try:
        order_id = uuid.UUID(token)
    except ValueError as exc:
        raise Problem(404, "未找到", "token not found") from exc
    order = await _one(request, who, id=order_id)
    return [{"service_request_id": order.number, "token": token}]
