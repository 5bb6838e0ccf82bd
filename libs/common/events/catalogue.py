"""The event catalogue: every event type, its payload model, producer and topic — derived
from the payload modules (one per producing service) and published as AsyncAPI 3.0.

Convention: a module constant `SOME_THING = "cn.lawline.<svc>.some_thing.vN"` (or, for a
superseded version kept for consumers, `SOME_THING_V1`) is described by the module's pydantic
model named `…SomeThingVN` (case-insensitive; a prefix such as `Aid…` is allowed). `OVERRIDES`
covers names that do not follow it. A type with a newer version in the catalogue is deprecated
(`EventSpec.superseded_by`): documented, still accepted, no longer sent.
"""

from __future__ import annotations

import builtins
import importlib
import re
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

# producing module -> logical topic (see topics.py)
PRODUCERS = {
    "intake": "workorder",
    "dispatch": "dispatch",
    "aid": "aid",
    "mediation": "mediation",
    "identity": "identity",
}
# event type -> model name, for names outside the convention (several types may share one payload).
OVERRIDES: dict[str, str] = {
    "cn.lawline.workorder.callback_recorded.v1": "CallbackRecordedV1",
    "cn.lawline.workorder.return_visit_recorded.v1": "CallbackRecordedV1",  # same task payload, kind=return_visit
}


def _shared_payloads() -> dict[str, str]:
    """Families of event types declared to share one payload model."""
    from libs.common.events import aid

    return {
        **{t: "AidCaseTransitionV2" for t in aid.CASE_EVENT_TYPES},
        **{t: "AidCaseTransitionV1" for t in aid.CASE_EVENT_TYPES_V1},
    }


@dataclass(frozen=True)
class EventSpec:
    type: str
    producer: str
    topic: str
    model: builtins.type[BaseModel] | None  # `type` alone is the field above
    superseded_by: str | None = None  # the newer version of this type, when there is one


def _version(event_type: str) -> tuple[str, int]:
    m = re.search(r"^(.*)\.v(\d+)$", event_type)
    return (m.group(1), int(m.group(2))) if m else (event_type, 1)


def _camel(const: str) -> str:
    return "".join(part.capitalize() for part in const.lower().split("_"))


def catalogue() -> list[EventSpec]:
    specs: list[EventSpec] = []
    for producer, topic_name in PRODUCERS.items():
        try:
            module = importlib.import_module(f"libs.common.events.{producer}")
        except ModuleNotFoundError:
            continue
        models = {
            n: v
            for n, v in vars(module).items()
            if isinstance(v, type)
            and issubclass(v, BaseModel)
            and v is not BaseModel
            and v.__module__ == module.__name__
        }
        for const, value in vars(module).items():
            if not (isinstance(value, str) and value.startswith("cn.lawline.") and const.isupper()):
                continue
            version = re.search(r"\.v(\d+)$", value)
            explicit = OVERRIDES.get(value) or _shared_payloads().get(value)
            base = re.sub(r"_V\d+$", "", const)
            wanted = (_camel(base) + f"V{version.group(1) if version else 1}").lower()
            if explicit:
                match = models.get(explicit)
            else:
                match = next(
                    (m for n, m in models.items() if n.lower() == wanted or n.lower().endswith(wanted)), None
                )
            specs.append(EventSpec(value, producer, topic_name, match))
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
