"""Every event type lawline sends, found from the payload models that declare it.

A payload module (one per producing service) defines its models on `EventPayload`; each model
names its type(s), source and topic (libs.common.events.payload). The registry is those models,
read from the modules — no naming convention, no table beside them. It answers "which model is
the payload of this type" for the consumers (`Handlers`), the catalogue and AsyncAPI.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from libs.common.events.payload import EventPayload

# The payload modules, named by producing service (libs/common/events/<producer>.py).
PRODUCERS = ("intake", "dispatch", "aid", "mediation", "identity")


def payload_models() -> list[type[EventPayload]]:
    """Every model of the payload modules that is the payload of at least one type."""
    found: list[type[EventPayload]] = []
    for producer in PRODUCERS:
        module = importlib.import_module(f"libs.common.events.{producer}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, EventPayload)
                and value.__module__ == module.__name__
                and value.event_types()
            ):
                found.append(value)
    return found


@lru_cache(maxsize=1)
def registry() -> dict[str, type[EventPayload]]:
    """Event type → its payload model. A type claimed by two models is a mistake, refused."""
    by_type: dict[str, type[EventPayload]] = {}
    for model in payload_models():
        for event_type in model.event_types():
            if event_type in by_type:
                raise ValueError(
                    f"{event_type} is claimed by {by_type[event_type].__name__} and {model.__name__}"
                )
            by_type[event_type] = model
    return by_type


def model_for(event_type: str) -> type[EventPayload] | None:
    return registry().get(event_type)


def producer_of(model: type[EventPayload]) -> str:
    return model.__module__.rsplit(".", 1)[-1]
