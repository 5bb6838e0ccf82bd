"""The base of every event payload: the model carries its CloudEvent type, source and topic, so a
producer names nothing but the model (`libs.common.outbox.Publisher`), a consumer registers its
handler by the model (`libs.common.events.handlers.Handlers`), and the catalogue is the list of
models (`libs.common.events.registry`).

The class attributes are `ClassVar`s: they are not fields, so neither the payload JSON nor its
JSON schema changes — the wire format is the one the plain `BaseModel`s had.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel


class EventPayload(BaseModel):
    """A payload of one event type (`TYPE`), or of a family of types that share one shape
    (`TYPES`: aid's case transitions, intake's callback and return visit)."""

    TYPE: ClassVar[str] = ""
    TYPES: ClassVar[tuple[str, ...]] = ()
    SOURCE: ClassVar[str] = ""  # CloudEvents `source` of the producing service
    TOPIC: ClassVar[str] = ""  # logical topic name (libs.common.events.topics)

    @classmethod
    def event_types(cls) -> tuple[str, ...]:
        """Every type string this model is the payload of, as declared on the class itself (a
        subclass that declares none inherits no type: `WorkOrderRoutingRequestedV1` has its own)."""
        own = vars(cls)
        if own.get("TYPES"):
            return tuple(own["TYPES"])
        return (own["TYPE"],) if own.get("TYPE") else ()

    @classmethod
    def type_for(cls, event_type: str | None = None) -> str:
        """The type to send this payload as: the one given (which must be one of the model's), or
        the model's only one."""
        types = cls.event_types()
        if event_type is None:
            if len(types) != 1:
                raise TypeError(f"{cls.__name__} is the payload of {len(types)} types: name one ({types})")
            return types[0]
        if event_type not in types:
            raise TypeError(f"{event_type} is not a type of {cls.__name__} ({types})")
        return event_type
