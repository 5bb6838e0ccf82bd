"""CloudEvents 1.0 in Kafka binary content mode.

Attributes travel as `ce_*` headers, `datacontenttype` as `content-type`, the payload
as the record value (JSON). The W3C `traceparent` header rides alongside. This is a
small hot-path implementation of the binding; `tests/unit/test_envelope.py` proves it
round-trips with the official `cloudevents` SDK in both directions.
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel

from libs.common import tracing

SPECVERSION = "1.0"
_CORE = ("id", "source", "type", "specversion", "time", "subject")
# The CloudEvents Sequence extension: the subject's revision, so a consumer can tell an older
# event from a newer one when the two came by different partitions (an order moved to another
# county is keyed by the new county from then on). Zero-padded: the spec compares strings.
SEQUENCE = "sequence"
_SEQUENCE_DIGITS = 12


@dataclass(slots=True)
class Envelope:
    type: str
    source: str
    data: dict[str, Any]
    subject: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    specversion: str = SPECVERSION
    datacontenttype: str = "application/json"
    # CloudEvents extension attributes (lower-case alphanumerics, per the spec).
    extensions: dict[str, str] = field(default_factory=dict)
    traceparent: str | None = None

    @property
    def correlation_id(self) -> str | None:
        return self.extensions.get("correlationid")

    @property
    def sequence(self) -> int | None:
        """The subject's revision this event announces (None: the producer keeps none)."""
        raw = self.extensions.get(SEQUENCE)
        return int(raw) if raw and raw.isdigit() else None

    def payload(self, model: builtins.type[BaseModel]) -> Any:
        return model.model_validate(self.data)

    def to_kafka(self) -> tuple[list[tuple[str, bytes]], bytes]:
        headers = [
            ("ce_id", self.id.encode()),
            ("ce_source", self.source.encode()),
            ("ce_type", self.type.encode()),
            ("ce_specversion", self.specversion.encode()),
            ("ce_time", _fmt_time(self.time).encode()),
            ("content-type", self.datacontenttype.encode()),
        ]
        if self.subject:
            headers.append(("ce_subject", self.subject.encode()))
        for k, v in self.extensions.items():
            headers.append((f"ce_{k}", v.encode()))
        if self.traceparent:
            headers.append(("traceparent", self.traceparent.encode()))
        return headers, orjson.dumps(self.data)

    @classmethod
    def from_kafka(cls, headers: list[tuple[str, bytes]] | tuple, value: bytes) -> Envelope:
        attrs: dict[str, str] = {}
        ext: dict[str, str] = {}
        content_type = "application/json"
        traceparent = None
        for name, raw in headers or ():
            name = name.lower()
            text = raw.decode() if isinstance(raw, bytes | bytearray) else str(raw)
            if name == "content-type":
                content_type = text
            elif name == "traceparent":
                traceparent = text
            elif name.startswith("ce_"):
                key = name[3:]
                (attrs if key in _CORE else ext)[key] = text
        missing = [k for k in ("id", "source", "type", "specversion") if k not in attrs]
        if missing:
            raise ValueError(f"not a CloudEvent: missing {missing}")
        return cls(
            id=attrs["id"],
            source=attrs["source"],
            type=attrs["type"],
            specversion=attrs["specversion"],
            time=datetime.fromisoformat(attrs["time"].replace("Z", "+00:00"))
            if "time" in attrs
            else datetime.now(UTC),
            subject=attrs.get("subject"),
            datacontenttype=content_type,
            data=orjson.loads(value) if value else {},
            extensions=ext,
            traceparent=traceparent,
        )

    def to_json(self) -> dict[str, Any]:
        """Structured form, for the outbox row and for the AsyncAPI examples."""
        return {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "specversion": self.specversion,
            "time": _fmt_time(self.time),
            "subject": self.subject,
            "datacontenttype": self.datacontenttype,
            "data": self.data,
            "extensions": self.extensions,
            "traceparent": self.traceparent,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Envelope:
        return cls(
            id=d["id"],
            source=d["source"],
            type=d["type"],
            specversion=d.get("specversion", SPECVERSION),
            time=datetime.fromisoformat(d["time"].replace("Z", "+00:00")),
            subject=d.get("subject"),
            datacontenttype=d.get("datacontenttype", "application/json"),
            data=d.get("data") or {},
            extensions=d.get("extensions") or {},
            traceparent=d.get("traceparent"),
        )


def _fmt_time(t: datetime) -> str:
    s = t.astimezone(UTC).isoformat()
    return s[:-6] + "Z" if s.endswith("+00:00") else s


def make_event(
    event_type: str,
    *,
    source: str,
    payload: BaseModel,
    subject: str | None = None,
    correlation_id: str | None = None,
    traceparent: str | None = None,
    sequence: int | None = None,
) -> Envelope:
    ext = {"correlationid": correlation_id} if correlation_id else {}
    if sequence is not None:
        ext[SEQUENCE] = f"{sequence:0{_SEQUENCE_DIGITS}d}"
    return Envelope(
        type=event_type,
        source=source,
        subject=subject,
        data=payload.model_dump(mode="json"),
        extensions=ext,
        # The W3C context of the span this event is made in (libs.common.tracing); none while
        # tracing is off: a made-up traceparent would name a trace no one recorded.
        traceparent=traceparent or tracing.created_traceparent(event_type, source.rsplit("/", 1)[-1]),
    )
