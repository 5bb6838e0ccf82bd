"""PATCH bodies: an absent field is left as it is, `null` clears a field — but only where
clearing means something. Everywhere else `null` is a 422 naming the field, instead of reaching
a NOT NULL column as a 500 (schemathesis found `{"windows": null}`, `{"active": null}` …, #17).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ValidationInfo, field_validator

from libs.common.bilingual import Text

NULL_REFUSED = Text(
    "此项不能为空；不修改请不要提交此字段", "must not be null; leave the field out to keep its value"
)


class PatchModel(BaseModel):
    """Base of every PATCH body; list the fields that may be cleared in `NULLABLE`."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    # mode="before" runs for every value the client sent, never for a default left out.
    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_clearing_means_something(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise NULL_REFUSED.error()
        return value
