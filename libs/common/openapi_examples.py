"""The one way a model or a route shows its OpenAPI examples (#17), typed as FastAPI and pydantic
expect them, so every service's schemas read alike and mypy checks the call sites."""

from __future__ import annotations

from typing import Any, cast

from pydantic.config import JsonDict


def examples(*values: Any) -> JsonDict:
    """A model's `json_schema_extra`: its examples, as OpenAPI 3.1 tools read them."""
    return cast(JsonDict, {"examples": list(values)})


def ok(example: Any, media: str = "application/json", status: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route whose answer is not a model (plain JSON, HTML, a file)."""
    return {status: {"content": {media: {"example": example}}}}
