"""What a delivery's body says, in the two formats a subscription can choose.

`lawline`: our own event, the same for every external system. `12345`: the 12345 hotline
platform's 办结反馈 (and the stage feedbacks before it): its own 工单编号, the stage, the result,
the handler unit, the time finished and the satisfaction. Neither carries personal data: no
names, phone or ID numbers, no description; the result is the closing text as the closed event
carries it (masked, libs.common.pii.mask_text). JSON schemas: docs/webhooks/*.schema.json
(`python -m services.intake.webhooks.formats` writes them), examples beside them."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.intake.queries import STATUS_ZH
from services.intake.webhooks.domain import KIND_ZH, Kind, satisfaction

AGENCY = "12348 公共法律服务"


@dataclass(frozen=True)
class OrderFacts:
    """What the body may say about the order (read in the same transaction as the event)."""

    work_order_id: str
    number: str
    status: str
    service_type: str
    external_source: str | None
    external_ref: str | None
    updated_at: datetime | None
    closed_at: datetime | None
    unit: str | None
    merged_into: str | None = None  # the order number a merged request (并单) follows


class OrderRef(BaseModel):
    number: str = Field(description="lawline 工单号")
    status: str = Field(description="工单状态代码（received、assigned、closed …）")
    status_notes: str = Field(description="状态中文说明")
    service_type: str
    external_source: str | None = Field(None, description="来源系统（12345、court、police …）")
    external_reference: str | None = Field(None, description="来源系统的单号")
    agency_responsible: str = Field(description="承办单位；未派单时为 12348 公共法律服务")
    updated_datetime: datetime | None = None
    merged_into: str | None = Field(None, description="并单：本请求并入的工单号，之后的进度即该工单的进度")


class Detail(BaseModel):
    handler_unit: str | None = Field(None, description="承办单位（派单后）")
    result: str | None = Field(None, description="办理结果（办结时）")
    closed_as: Literal["closed", "cancelled"] | None = Field(None, description="办结或撤销")
    score: int | None = Field(None, ge=1, le=5, description="评价分（1–5）")
    satisfaction: Literal["满意", "基本满意", "不满意"] | None = None


class LawlineEventV1(BaseModel):
    """`format: lawline` — one order event of the external system's own order."""

    model_config = ConfigDict(title="lawline webhook event v1")

    id: str = Field(description="事件 id（与 X-Lawline-Event-Id 相同；重试、重放不变，接收方据此去重）")
    type: Kind = Field(description="accepted 受理 | assigned 派单 | answered 答复 | closed 办结 | rated 评价")
    occurred_at: datetime
    order: OrderRef
    detail: Detail


class Feedback12345V1(BaseModel):
    """`format: 12345` — 12345 热线工单反馈（受理、派单、答复、办结、评价各一条；办结反馈带办理结果、
    承办单位、办结时间，评价后带满意度）。"""

    model_config = ConfigDict(title="12345 办结反馈 v1")

    event_id: str = Field(description="事件 id，去重用")
    ticket_no: str | None = Field(description="12345 工单编号（转来时的 external.reference）")
    lawline_number: str = Field(description="12348 工单号")
    merged_into_number: str | None = Field(None, description="并单时本单并入的 12348 工单号")
    stage: Kind = Field(description="反馈环节代码")
    stage_name: str = Field(description="反馈环节：受理、派单、答复、办结、评价")
    status_name: str = Field(description="工单当前状态")
    handler_unit: str = Field(description="承办单位")
    result: str | None = Field(None, description="办理结果（办结反馈）")
    finished_at: datetime | None = Field(None, description="办结时间")
    satisfaction: Literal["满意", "基本满意", "不满意"] | None = Field(None, description="满意度")
    score: int | None = Field(None, ge=1, le=5, description="评价分（1–5）")
    feedback_at: datetime = Field(description="反馈时间（事件发生时间）")


def _detail(kind: Kind, data: dict[str, Any], facts: OrderFacts) -> Detail:
    unit = data.get("service_point_name") if kind == "assigned" else facts.unit
    score = data.get("score") if kind == "rated" else None
    return Detail(
        handler_unit=unit,
        result=data.get("reason") if kind == "closed" else None,
        closed_as=("cancelled" if facts.status == "cancelled" else "closed") if kind == "closed" else None,
        score=score,
        satisfaction=satisfaction(score),  # type: ignore[arg-type]
    )


def lawline_body(
    kind: Kind, *, event_id: str, at: datetime, data: dict[str, Any], facts: OrderFacts
) -> LawlineEventV1:
    detail = _detail(kind, data, facts)
    return LawlineEventV1(
        id=event_id,
        type=kind,
        occurred_at=at,
        order=OrderRef(
            number=facts.number,
            status=facts.status,
            status_notes=STATUS_ZH.get(facts.status, facts.status),
            service_type=facts.service_type,
            external_source=facts.external_source,
            external_reference=facts.external_ref,
            agency_responsible=detail.handler_unit or AGENCY,
            updated_datetime=facts.updated_at,
            merged_into=facts.merged_into,
        ),
        detail=detail,
    )


def feedback_12345(
    kind: Kind, *, event_id: str, at: datetime, data: dict[str, Any], facts: OrderFacts
) -> Feedback12345V1:
    detail = _detail(kind, data, facts)
    return Feedback12345V1(
        event_id=event_id,
        ticket_no=facts.external_ref if facts.external_source == "12345" else None,
        lawline_number=facts.number,
        merged_into_number=facts.merged_into,
        stage=kind,
        stage_name=KIND_ZH[kind],
        status_name=STATUS_ZH.get(facts.status, facts.status),
        handler_unit=detail.handler_unit or AGENCY,
        result=detail.result,
        finished_at=facts.closed_at if kind in ("closed", "rated") else None,
        satisfaction=detail.satisfaction,
        score=detail.score,
        feedback_at=at,
    )


def render(
    fmt: str, kind: Kind, *, event_id: str, at: datetime, data: dict[str, Any], facts: OrderFacts
) -> str:
    """The body's exact text (compact UTF-8 JSON), fixed when the delivery is written."""
    build = feedback_12345 if fmt == "12345" else lawline_body
    model = build(kind, event_id=event_id, at=at, data=data, facts=facts)
    return json.dumps(model.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


# ---- the documented examples (docs/webhooks/) ---------------------------------------------
EXAMPLE_FACTS = OrderFacts(
    work_order_id="0f6e3a9c-27b8-4d15-9c4e-8a1b2c3d4e5f",
    number="LW20261124000123",
    status="closed",
    service_type="mediation",
    external_source="12345",
    external_ref="12345-2026-1124-00077",
    updated_at=datetime.fromisoformat("2026-11-28T07:10:00+00:00"),
    closed_at=datetime.fromisoformat("2026-11-28T07:10:00+00:00"),
    unit="潞州区东街街道人民调解委员会",
)
EXAMPLE_CLOSED = {"reason": "经调解双方达成协议，已签订人民调解协议书。"}


def examples() -> dict[str, str]:
    at = datetime.fromisoformat("2026-11-28T07:10:00+00:00")
    eid = "6b0f3c5e-2f1d-4c7a-9e8b-1a2b3c4d5e6f"
    return {
        "lawline-closed.example.json": render(
            "lawline", "closed", event_id=eid, at=at, data=EXAMPLE_CLOSED, facts=EXAMPLE_FACTS
        ),
        "12345-closed.example.json": render(
            "12345", "closed", event_id=eid, at=at, data=EXAMPLE_CLOSED, facts=EXAMPLE_FACTS
        ),
    }


def write_docs(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, model in (("lawline-event-v1", LawlineEventV1), ("12345-feedback-v1", Feedback12345V1)):
        schema = json.dumps(model.model_json_schema(), ensure_ascii=False, indent=2) + "\n"
        (folder / f"{name}.schema.json").write_text(schema, encoding="utf-8")
    for name, text in examples().items():
        pretty = json.dumps(json.loads(text), ensure_ascii=False, indent=2) + "\n"
        (folder / name).write_text(pretty, encoding="utf-8")


if __name__ == "__main__":
    write_docs(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/webhooks"))
