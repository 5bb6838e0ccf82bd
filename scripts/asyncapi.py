"""Write docs/asyncapi.yaml from the event catalogue: `python -m scripts.asyncapi`.

Starts from `libs.common.events.catalogue.asyncapi()` (channels, messages, send operations) and
makes it a document the official `@asyncapi/parser` accepts (tests/unit/test_asyncapi_parser.py):

* payload models go to `components.schemas` (one per model, shared by the types that share it)
  and pydantic's local `#/$defs/X` go there too, refs rewritten to `#/components/schemas/X`;
* headers are a schema of the `ce_*` headers `Envelope.to_kafka` really writes;
* every message names its Kafka key (`bindings.kafka.key`), as the producers choose it;
* `receive` operations for each consuming service (its `consume=[…]` topics in
  services/<svc>/main.py, the types its `build_handlers` answers) and for every service's
  identity feed (libs/common/apikeys.IdentityFeed);
* the dead-letter channel (libs/common/inbox.InboxConsumer._dead_letter) and who sends to it;
* an `examples` entry on every message: the payload model's own example (json_schema_extra,
  libs/common/events/examples.py) and the headers `Envelope.to_kafka` writes for it.
"""

from __future__ import annotations

import copy
import importlib
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import yaml

from libs.common.events import topics as topics_mod
from libs.common.events.catalogue import EventSpec, catalogue
from libs.common.events.catalogue import asyncapi as catalogue_asyncapi
from libs.common.events.envelope import Envelope
from libs.common.events.examples import examples_of

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "asyncapi.yaml"
KAFKA_BINDING = "0.5.0"
SERVICES = ("aid", "dispatch", "identity", "intake", "mediation")

COUNTY_KEY = "county code of the order's jurisdiction (one consumer owns one county's staff state)"
# event type (or '<topic>:*' for the rest of a topic) -> what the producer puts in the record key
KEYS: dict[str, str] = {
    "workorder:*": COUNTY_KEY + " — services/intake/service.prepare_events",
    "dispatch:*": COUNTY_KEY + " — services/dispatch/service.emit (order events)",
    "cn.lawline.dispatch.staff_availability.v1": "the staff member's county code, else the first 6 "
    "characters of the service point's region code (services/dispatch/network._key)",
    "cn.lawline.dispatch.staff_changed.v1": "the staff member's county code, else the first 6 "
    "characters of the service point's region code (services/dispatch/network)",
    "cn.lawline.dispatch.calendar_year_updated.v1": "the constant `calendar` "
    "(services/dispatch/network.CALENDAR_KEY)",
    "aid:*": "the aid case id (UUID) — services/aid/workflow",
    "mediation:*": "the mediation case id (UUID) — services/mediation/service",
    "cn.lawline.identity.session_started.v1": "the account id",
    "cn.lawline.identity.token_revoked.v1": "the token's jti",
    "cn.lawline.identity.token_revoked.v2": "the token's jti",
    "cn.lawline.identity.apikey_created.v1": "the API key id",
    "cn.lawline.identity.apikey_revoked.v1": "the API key id",
    "cn.lawline.identity.credentials_snapshot.v1": "`snapshot:<number>`",
}
SEQUENCED = ("workorder", "dispatch")  # topics whose order events carry ce_sequence

CE_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0, Kafka binary content mode (libs/common/events/envelope.Envelope."
    "to_kafka): attributes as `ce_*` headers, datacontenttype as `content-type`, the data as the "
    "record value (JSON). Consumers de-duplicate by `ce_id`.",
    "required": ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "content-type"],
    "properties": {
        "ce_id": {"type": "string", "format": "uuid", "description": "event id (UUID 4)"},
        "ce_source": {"type": "string", "description": "producer, `/lawline/<service>`"},
        "ce_type": {"type": "string", "description": "event type, `cn.lawline.<svc>.<what>.vN`"},
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_time": {"type": "string", "format": "date-time", "description": "UTC, `Z` suffix"},
        "content-type": {"type": "string", "const": "application/json"},
        "ce_subject": {
            "type": "string",
            "description": "what the event is about (e.g. the work order id); "
            "absent when the producer names none",
        },
        "ce_correlationid": {
            "type": "string",
            "description": "CloudEvents extension: the correlation id "
            "of the request that caused the event; absent outside a request",
        },
        "ce_sequence": {
            "type": "string",
            "pattern": "^[0-9]{12}$",
            "description": "CloudEvents Sequence extension, on workorder and dispatch events about an "
            "order: the order's revision, zero-padded to 12 digits — a consumer ignores an event older "
            "than one it applied (after a move to another county an order's events come by another "
            "partition)",
        },
        "traceparent": {"type": "string", "description": "W3C trace context"},
    },
}
DEAD_LETTER_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "The original record's headers (normally the CloudEvents `ce_*` headers, but a "
    "record that was not a CloudEvent is dead-lettered too) plus these four "
    "(libs/common/inbox.InboxConsumer).",
    "required": ["lawline_error", "lawline_original_topic", "lawline_consumer", "lawline_failed_at"],
    "properties": {
        "lawline_error": {"type": "string", "maxLength": 2000, "description": "why the consumer gave up"},
        "lawline_original_topic": {"type": "string", "description": "the topic the record came from"},
        "lawline_consumer": {"type": "string", "description": "the consuming service"},
        "lawline_failed_at": {"type": "string", "format": "date-time"},
    },
    "additionalProperties": True,
}


_EXAMPLE_NS = uuid.UUID("6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b")  # stable example event ids
_EXAMPLE_TIME = datetime(2026, 3, 2, 1, 36, tzinfo=UTC)
_SUBJECT_FIELDS = ("work_order_id", "case_id", "jti", "key_id", "account_id", "staff_id", "extension_id")


def _example_time(payload: dict[str, Any]) -> datetime:
    for k, v in payload.items():
        if (k == "at" or k.endswith("_at")) and isinstance(v, str):
            try:
                return datetime.fromisoformat(v.replace("Z", "+00:00"))
            except ValueError:
                continue
    return _EXAMPLE_TIME


def _example_headers(spec: EventSpec, payload: dict[str, Any], source: str | None) -> dict[str, str]:
    """The record headers a producer writes for this payload (Envelope.to_kafka), fixed ids."""
    ext = {"correlationid": "req-7f3e2d1c0b9a"}
    if spec.topic in SEQUENCED and payload.get("work_order_id"):
        ext["sequence"] = f"{3:012d}"
    envelope = Envelope(
        type=spec.type,
        source=source or f"/lawline/{spec.producer}",
        data=payload,
        subject=next((str(payload[f]) for f in _SUBJECT_FIELDS if payload.get(f)), None),
        id=str(uuid.uuid5(_EXAMPLE_NS, spec.type)),
        time=_example_time(payload),
        extensions=ext,
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    headers, _ = envelope.to_kafka()
    return {k: v.decode() for k, v in headers}


def _examples(spec: EventSpec, source: str | None) -> list[dict[str, Any]]:
    if spec.model is None:
        return []
    return [
        {
            "name": f"{spec.model.__name__}_{i}",
            "summary": f"{spec.type} as it travels: record headers and value",
            "headers": _example_headers(spec, payload, source),
            "payload": payload,
        }
        for i, payload in enumerate(examples_of(spec.model), start=1)
    ]


def _dead_letter_example(messages: dict[str, Any]) -> dict[str, Any]:
    original = messages["workorder_created_v1"]["examples"][0]
    return {
        "name": "dead_letter_1",
        "summary": "a workorder.created dispatch could not handle after its retries",
        "headers": {
            **original["headers"],
            "lawline_error": "OperationalError: could not serialize access due to concurrent update "
            "(gave up after 5 attempts)",
            "lawline_original_topic": "lawline.workorder.v1",
            "lawline_consumer": "dispatch",
            "lawline_failed_at": "2026-03-02T01:36:09Z",
        },
        "payload": original["payload"],
    }


def _hoist(schema: dict[str, Any], schemas: dict[str, Any], name: str) -> dict[str, Any]:
    """Move `$defs` into components.schemas and point every local ref there."""
    schema = copy.deepcopy(schema)
    defs = schema.pop("$defs", {})

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (
                    re.sub(r"^#/\$defs/", "#/components/schemas/", v)
                    if k == "$ref" and isinstance(v, str)
                    else rewrite(v)
                )
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    for def_name, def_schema in {**{k: rewrite(v) for k, v in defs.items()}, name: rewrite(schema)}.items():
        if def_name in schemas and schemas[def_name] != def_schema:
            raise ValueError(f"two different schemas named {def_name}: rename one of the models")
        schemas[def_name] = def_schema
    return {"$ref": f"#/components/schemas/{name}"}


def _consumed_topics(service: str) -> list[str]:
    """The `consume=[…]` of services/<svc>/main.py (topic constants of events/topics.py)."""
    text = (ROOT / "services" / service / "main.py").read_text()
    m = re.search(r"consume=\[([A-Z_,\s]*)\]", text)
    return [getattr(topics_mod, c.strip()) for c in m.group(1).split(",") if c.strip()] if m else []


def _handled(service: str, types: list[str]) -> list[str]:
    handlers = importlib.import_module(f"services.{service}.handlers").build_handlers(MagicMock())
    return [t for t in types if handlers.get(t) or handlers.get("*")]


def build() -> dict[str, Any]:
    doc = catalogue_asyncapi()
    messages: dict[str, Any] = doc["components"]["messages"]
    schemas: dict[str, Any] = {"CloudEventHeaders": CE_HEADERS}
    specs = {s.type.removeprefix("cn.lawline.").replace(".", "_"): s for s in catalogue()}
    for name, msg in messages.items():
        spec = specs[name]
        msg["payload"] = (
            _hoist(msg["payload"], schemas, spec.model.__name__) if spec.model else msg["payload"]
        )
        source = spec.model.SOURCE if spec.model else None  # the model names its CloudEvents source
        fixed: dict[str, Any] = {"ce_type": {"type": "string", "const": spec.type}}
        if source:
            fixed["ce_source"] = {"type": "string", "const": source}
        msg["headers"] = {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEventHeaders"},
                {"type": "object", "properties": fixed},
            ]
        }
        msg["examples"] = _examples(spec, source)
        key = KEYS.get(spec.type) or KEYS[f"{spec.topic}:*"]
        msg["bindings"] = {
            "kafka": {"key": {"type": "string", "description": key}, "bindingVersion": KAFKA_BINDING}
        }

    channels: dict[str, Any] = doc["channels"]
    for ch in channels.values():
        ch["bindings"] = {
            "kafka": {
                "topic": ch["address"],
                "partitions": topics_mod.PARTITIONS,
                "bindingVersion": KAFKA_BINDING,
            }
        }
    dl = topics_mod.DEAD_LETTER
    channels[dl] = {
        "address": topics_mod.topic(dl, prefix=""),
        "description": "Records a consumer gave up on, after its retries: a best-effort copy — the "
        "consuming service's own database holds the dead letter that is listed and replayed "
        "(libs/common/deadletters.py, `GET /v1/dead-letters` on every service).",
        "messages": {"dead_letter": {"$ref": "#/components/messages/dead_letter"}},
        "bindings": {
            "kafka": {
                "topic": topics_mod.topic(dl, prefix=""),
                "partitions": topics_mod.PARTITIONS,
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }
    messages["dead_letter"] = {
        "name": "dead_letter",
        "title": "Dead letter",
        "summary": "The original record, unchanged, with why and where it failed",
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
        "payload": {
            "description": "the original record's value, byte for byte (normally the "
            "CloudEvent's JSON data, as on the original channel)"
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "the original record's key"},
                "bindingVersion": KAFKA_BINDING,
            }
        },
    }
    messages["dead_letter"]["examples"] = [_dead_letter_example(messages)]
    schemas["DeadLetterHeaders"] = DEAD_LETTER_HEADERS

    operations: dict[str, Any] = doc["operations"]
    by_topic: dict[str, list[str]] = {}
    for name, spec in specs.items():
        by_topic.setdefault(spec.topic, []).append(name)
    for service in SERVICES:
        consumed = _consumed_topics(service)
        for logical in consumed:
            on_topic = by_topic.get(logical, [])
            handled = set(_handled(service, [specs[n].type for n in on_topic]))
            names = [n for n in on_topic if specs[n].type in handled]
            if not names:
                continue
            operations[f"{service}_receives_{logical}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{logical}"},
                "messages": [{"$ref": f"#/channels/{logical}/messages/{n}"} for n in names],
                "summary": f"consumed by {service} (group lawline-{service}, inbox de-duplicated by ce_id)",
                "description": f"services/{service}/handlers.build_handlers; other types on the topic are "
                "skipped. A record it cannot handle after its retries goes to the dead-letter channel.",
            }
        if consumed:
            operations[f"{service}_sends_dead_letter"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{dl}"},
                "messages": [{"$ref": f"#/channels/{dl}/messages/dead_letter"}],
                "summary": f"{service} dead-letters a record it could not handle",
            }
        ident = topics_mod.IDENTITY
        operations[f"{service}_receives_{ident}_feed"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{ident}"},
            "messages": [{"$ref": f"#/channels/{ident}/messages/{n}"} for n in by_topic.get(ident, [])],
            "summary": f"{service}'s credential cache (libs/common/apikeys.IdentityFeed): every partition "
            "from the start, no consumer group",
        }
    doc["components"]["schemas"] = dict(sorted(schemas.items()))
    return doc


def render() -> str:
    return yaml.safe_dump(build(), allow_unicode=True, sort_keys=False)


if __name__ == "__main__":
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(render())
    print(f"wrote {OUT}")
