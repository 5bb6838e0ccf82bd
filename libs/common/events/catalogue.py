"""The event catalogue: every event type, its payload model, producer and topic — the registry of
payload models (libs.common.events.registry: each model declares its types) — published as
AsyncAPI 3.0. A type with a newer version in the catalogue is deprecated
(`EventSpec.superseded_by`): documented, still accepted, no longer sent.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, replace
from typing import Any

from libs.common.events.payload import EventPayload
from libs.common.events.registry import producer_of, registry


@dataclass(frozen=True)
class EventSpec:
    type: str
    producer: str
    topic: str
    model: builtins.type[EventPayload] | None  # `type` alone is the field above
    superseded_by: str | None = None  # the newer version of this type, when there is one


def _version(event_type: str) -> tuple[str, int]:
    m = re.search(r"^(.*)\.v(\d+)$", event_type)
    return (m.group(1), int(m.group(2))) if m else (event_type, 1)


def catalogue() -> list[EventSpec]:
    specs = [
        EventSpec(event_type, producer_of(model), model.TOPIC, model)
        for event_type, model in registry().items()
    ]
    latest: dict[str, tuple[int, str]] = {}
    for spec in specs:
        base, number = _version(spec.type)
        if number > latest.get(base, (0, ""))[0]:
            latest[base] = (number, spec.type)
    specs = [
        replace(s, superseded_by=latest[_version(s.type)[0]][1])
        if latest[_version(s.type)[0]][1] != s.type
        else s
        for s in specs
    ]
    return sorted(specs, key=lambda s: s.type)


def asyncapi() -> dict[str, Any]:
    from libs.common.events.topics import topic

    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for spec in catalogue():
        name = spec.type.removeprefix("cn.lawline.").replace(".", "_")
        schema = spec.model.model_json_schema() if spec.model else {"type": "object"}
        messages[name] = {
            "name": spec.type,
            "title": spec.model.__name__ if spec.model else spec.type,
            "summary": (spec.model.__doc__ or "").strip().splitlines()[0]
            if spec.model and spec.model.__doc__
            else "",
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "description": "CloudEvents 1.0 binary mode: ce_id, ce_source, ce_type, "
                "ce_specversion, ce_time, ce_subject, ce_correlationid, content-type, traceparent; ce_sequence "
                "(CloudEvents Sequence extension) on workorder and dispatch events: the order's revision, "
                "zero-padded — a consumer ignores an event older than one it applied (after a move to "
                "another county, an order's events come by another partition)",
            },
            "payload": schema,
        }
        if spec.superseded_by:
            messages[name]["title"] += " (deprecated)"
            messages[name]["description"] = (
                f"Deprecated: superseded by `{spec.superseded_by}`. No longer sent; consumers still "
                "accept it while older records may remain in an outbox or on the topic."
            )
            messages[name]["tags"] = [{"name": "deprecated"}]
        channel = topic(spec.topic, prefix="")
        channels.setdefault(spec.topic, {"address": channel, "messages": {}})
        channels[spec.topic]["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        operations[f"publish_{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{spec.topic}"},
            "messages": [{"$ref": f"#/channels/{spec.topic}/messages/{name}"}],
            "summary": f"produced by {spec.producer}",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "lawline events",
            "version": "1.0.0",
            "description": "Every event lawline services exchange over Kafka (at-least-once; consumers "
            "de-duplicate by CloudEvent id). Keys: county code on workorder/dispatch topics, "
            "case id on aid/mediation topics.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
