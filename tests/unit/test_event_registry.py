"""The payload models carry their types (registry), one publisher builds every envelope, and
handlers are registered by model and handed the parsed payload (issue #18 item 1)."""

import asyncio
import importlib

import orjson
import pytest

from libs.common.events import aid, dispatch, intake
from libs.common.events.envelope import Envelope, make_event
from libs.common.events.registry import PRODUCERS, model_for, registry
from libs.common.handlers import Handlers, PayloadInvalid
from libs.common.logging import correlation_id
from libs.common.publisher import prepare


def test_every_type_constant_of_the_payload_modules_has_its_model():
    for producer in PRODUCERS:
        module = importlib.import_module(f"libs.common.events.{producer}")
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str) and value.startswith("cn.lawline."):
                model = model_for(value)
                assert model is not None, f"{producer}.{name} = {value} has no payload model"
                assert model.SOURCE == module.SOURCE and value in model.event_types()


def test_a_family_shares_one_model_and_a_subclass_declares_its_own_type():
    assert {model_for(t) for t in aid.CASE_EVENT_TYPES} == {aid.AidCaseTransitionV2}
    assert {model_for(t) for t in aid.CASE_EVENT_TYPES_V1} == {aid.AidCaseTransitionV1}
    assert model_for(intake.WORKORDER_RETURN_VISIT_RECORDED) is intake.CallbackRecordedV1
    assert intake.WorkOrderRoutingRequestedV1.event_types() == (intake.WORKORDER_ROUTING_REQUESTED,)
    assert len(registry()) == sum(len(m.event_types()) for m in set(registry().values()))


def _assigned() -> dispatch.AssignedV1:
    example = dispatch.AssignedV1.model_json_schema()["examples"][0]
    return dispatch.AssignedV1.model_validate(example)


def test_the_publisher_writes_the_envelope_the_emit_helpers_wrote():
    payload = _assigned()
    token = correlation_id.set("corr-1")
    try:
        topic_, key, event = prepare(payload, subject=payload.work_order_id, key="140430", sequence=7)
    finally:
        correlation_id.reset(token)
    old = make_event(
        dispatch.ASSIGNED,
        source=dispatch.SOURCE,
        payload=payload,
        subject=payload.work_order_id,
        correlation_id="corr-1",
        sequence=7,
    )
    assert topic_.endswith("lawline.dispatch.v1") and key == "140430"
    mine, theirs = event.to_json(), old.to_json()
    for varying in ("id", "time", "traceparent"):
        mine.pop(varying), theirs.pop(varying)
    assert mine == theirs
    assert orjson.dumps(event.data) == orjson.dumps(old.data)


def test_a_model_of_several_types_must_be_told_which():
    example = aid.AidCaseTransitionV2.model_json_schema()["examples"][0]
    payload = aid.AidCaseTransitionV2.model_validate(example)
    with pytest.raises(TypeError, match="name one"):
        prepare(payload, subject="s", key="k")
    with pytest.raises(TypeError, match="not a type"):
        prepare(payload, subject="s", key="k", type=dispatch.ASSIGNED)
    assert prepare(payload, subject="s", key="k", type=aid.GRANTED)[2].type == aid.GRANTED


def _event(model, data, event_type=None) -> Envelope:
    return Envelope(type=event_type or model.type_for(), source=model.SOURCE, data=data)


def test_a_handler_gets_the_parsed_payload_and_a_bad_one_names_the_field():
    seen = []

    async def on_assigned(session, event, data: dispatch.AssignedV1) -> None:
        seen.append(data)

    handlers = Handlers().on(dispatch.AssignedV1, on_assigned)
    good = _assigned().model_dump(mode="json")
    asyncio.run(handlers.get(dispatch.ASSIGNED)(None, _event(dispatch.AssignedV1, good)))
    assert seen == [_assigned()]

    bad = {k: v for k, v in good.items() if k != "work_order_id"}
    with pytest.raises(PayloadInvalid) as caught:
        asyncio.run(handlers[dispatch.ASSIGNED](None, _event(dispatch.AssignedV1, bad)))
    assert str(caught.value) == "payload_invalid: work_order_id: Field required"
    assert handlers.get(dispatch.OFFERED) is None and handlers.get("*") is None


def test_a_family_registers_at_once_and_a_type_is_handled_once():
    async def noop(session, event, data) -> None:
        return None

    handlers = Handlers().on(aid.AidCaseTransitionV2, noop).on(aid.AidCaseTransitionV1, noop)
    assert set(handlers) == set(aid.CASE_EVENT_TYPES) | set(aid.CASE_EVENT_TYPES_V1)
    with pytest.raises(ValueError, match="has a handler"):
        handlers.on(aid.AidCaseTransitionV2, noop, types=[aid.GRANTED])
    with pytest.raises(TypeError):
        Handlers().on(aid.AidCaseTransitionV2, noop, types=[dispatch.ASSIGNED])


def test_a_fallback_follows_every_type_but_the_ignored_and_gets_the_registry_model():
    got = []

    async def fold(session, event, data) -> None:
        got.append((event.type, type(data).__name__ if data else None))

    handlers = Handlers(fallback=fold, ignored=[dispatch.STAFF_CHANGED])
    assert handlers.get(dispatch.STAFF_CHANGED) is None and handlers.get("*") is None
    asyncio.run(handlers.get(dispatch.ASSIGNED)(None, _event(dispatch.AssignedV1, _assigned().model_dump())))
    asyncio.run(
        handlers.get("cn.lawline.aid.newer_step.v9")(
            None, Envelope(type="cn.lawline.aid.newer_step.v9", source="/x", data={})
        )
    )
    assert got == [(dispatch.ASSIGNED, "AssignedV1"), ("cn.lawline.aid.newer_step.v9", None)]


def test_unless_rules_a_record_out_before_the_inbox_and_a_broken_payload_stays_wanted():
    seen = []

    async def on_classified(session, event, data: intake.WorkOrderClassifiedV2) -> None:
        seen.append(data.method)

    handlers = Handlers().on(intake.WorkOrderClassifiedV2, on_classified, unless=lambda d: d.method == "auto")
    handler = handlers.get(intake.WORKORDER_CLASSIFIED)
    example = intake.WorkOrderClassifiedV2.model_json_schema()["examples"][0]
    by_operator = _event(intake.WorkOrderClassifiedV2, example)
    at_filing = _event(intake.WorkOrderClassifiedV2, {**example, "method": "auto"})
    broken = _event(intake.WorkOrderClassifiedV2, {k: v for k, v in example.items() if k != "method"})
    assert handler.wants(by_operator) and not handler.wants(at_filing)
    assert handler.wants(broken)  # the handler's own parse dead-letters it, naming the field
    asyncio.run(handler(None, by_operator))
    assert seen == ["operator"]
