"""Our Kafka binary-mode CloudEvents envelope round-trips with the official SDK both ways."""

from __future__ import annotations

from datetime import UTC, datetime

from cloudevents.core.bindings.kafka import KafkaMessage, from_binary, to_binary
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from libs.common.events import intake
from libs.common.events.envelope import Envelope, make_event


def _payload() -> intake.WorkOrderCreatedV1:
    return intake.WorkOrderCreatedV1(
        work_order_id="6f1c1f0e-0000-4000-8000-000000000001",
        number="LW20261124000001",
        channel="hotline",
        service_type="legal_aid",
        region_code="140430003",
        county_code="140430",
        requester_name="王秀英",
        requester_phone_masked="138****7890",
        description="老板拖欠工资",
        created_at=datetime(2026, 11, 24, tzinfo=UTC),
    )


def test_ours_to_sdk():
    env = make_event(
        intake.WORKORDER_CREATED,
        source=intake.SOURCE,
        payload=_payload(),
        subject="wo-1",
        correlation_id="abc123",
    )
    headers, value = env.to_kafka()
    assert all(k.startswith("ce_") or k in ("content-type", "traceparent") for k, _ in headers)
    event = from_binary(KafkaMessage(headers=dict(headers), key=b"140430", value=value), JSONFormat())
    assert event.get_id() == env.id
    assert event.get_type() == "cn.lawline.workorder.created.v1"
    assert event.get_source() == "/lawline/intake"
    assert event.get_specversion() == "1.0"
    assert event.get_subject() == "wo-1"
    assert event.get_datacontenttype() == "application/json"
    assert event.get_time() == env.time
    assert event.get_extension("correlationid") == "abc123"
    assert event.get_data()["requester_name"] == "王秀英"


def test_sdk_to_ours():
    event = CloudEvent(
        attributes={
            "id": "e-1",
            "type": "cn.lawline.dispatch.offered.v1",
            "source": "/lawline/dispatch",
            "specversion": "1.0",
            "time": datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC),
            "subject": "wo-9",
            "datacontenttype": "application/json",
            "correlationid": "c-9",
        },
        data={"work_order_id": "wo-9", "staff_name": "李敏"},
    )
    msg = to_binary(event, JSONFormat())
    env = Envelope.from_kafka(list(msg.headers.items()), msg.value)
    assert (env.id, env.type, env.source, env.subject) == (
        "e-1",
        event.get_type(),
        "/lawline/dispatch",
        "wo-9",
    )
    assert env.time == datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC)
    assert env.correlation_id == "c-9"
    assert env.data == {"work_order_id": "wo-9", "staff_name": "李敏"}
    # And back again through ours: nothing lost.
    headers, value = env.to_kafka()
    again = from_binary(KafkaMessage(headers=dict(headers), key=None, value=value), JSONFormat())
    assert again.get_attributes() == event.get_attributes()


def test_structured_json_roundtrip_for_outbox_rows():
    env = make_event(intake.WORKORDER_CREATED, source=intake.SOURCE, payload=_payload())
    assert Envelope.from_json(env.to_json()).to_kafka() == env.to_kafka()


def test_non_cloudevent_is_rejected():
    import pytest

    with pytest.raises(ValueError, match="missing"):
        Envelope.from_kafka([("content-type", b"application/json")], b"{}")
