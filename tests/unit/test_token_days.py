"""`expires_in_days` is JSON Schema's integer exactly: 30 and 30.0 are, `true`, 1.5 and "30" are not."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.schemas import TokenCreate


@pytest.mark.parametrize("days", [30, 30.0])
def test_whole_numbers_are_days(days: object) -> None:
    assert TokenCreate.model_validate({"name": "x", "expires_in_days": days}).expires_in_days == 30


@pytest.mark.parametrize("days", [True, 1.5, "30"])
def test_anything_else_is_refused_saying_why(days: object) -> None:
    with pytest.raises(ValidationError) as raised:
        TokenCreate.model_validate({"name": "x", "expires_in_days": days})
    [error] = raised.value.errors()
    assert error["loc"] == ("expires_in_days",)
    assert error["msg"] == "Value error, must be a whole number"
