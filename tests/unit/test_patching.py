"""PATCH bodies refuse null where a field cannot be cleared, and name the field (#17)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from libs.common.problems import translate_validation_error
from services.dispatch.schemas import ServicePointPatch, StaffPatch
from services.identity.schemas_accounts import AccountPatch


@pytest.mark.parametrize(
    ("model", "field"),
    [(StaffPatch, "active"), (StaffPatch, "levels"), (ServicePointPatch, "windows"), (AccountPatch, "roles")],
)
def test_null_is_a_field_error_where_a_field_cannot_be_cleared(model, field):
    with pytest.raises(ValidationError) as caught:
        model.model_validate({field: None})
    [error] = [translate_validation_error(e) for e in caught.value.errors()]
    assert error["field"] == field and "不能为空" in error["message"] and "null" in error["message_en"]


def test_absent_fields_stay_unset_and_null_clears_where_allowed():
    assert StaffPatch.model_validate({"capacity": 3}).model_dump(exclude_unset=True) == {"capacity": 3}
    assert ServicePointPatch.model_validate({"parent_id": None}).model_dump(exclude_unset=True) == {
        "parent_id": None
    }
