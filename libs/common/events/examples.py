"""Examples on the payload models (`model_config = examples({...})`): the AsyncAPI document shows
each message with one (scripts/asyncapi.py), and tests/unit/test_event_examples.py validates each
against its model. Realistic and with no personal data: demo-city region codes, made-up ids, a
citizen only as 某 (never a real name, phone or ID number)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


def examples(*items: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(items)})


def examples_of(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The examples declared on the model itself (a subclass does not inherit its parent's)."""
    extra = model.__dict__.get("model_config", {}).get("json_schema_extra")
    own = isinstance(extra, dict) and "examples" in extra and _declared_here(model, extra)
    return list(extra["examples"]) if own and isinstance(extra, dict) else []


def _declared_here(model: type[BaseModel], extra: dict[str, Any]) -> bool:
    for base in model.__mro__[1:]:
        if isinstance(base, type) and issubclass(base, BaseModel) and base is not BaseModel:
            if base.model_config.get("json_schema_extra") is extra:
                return False
    return True
