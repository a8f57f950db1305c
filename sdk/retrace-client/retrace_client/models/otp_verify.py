from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="OtpVerify")


@_attrs_define
class OtpVerify:
    """
    Attributes:
        challenge_id (UUID):
        code (str):
    """

    challenge_id: UUID
    code: str

    def to_dict(self) -> dict[str, Any]:
        challenge_id = str(self.challenge_id)

        code = self.code

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "challenge_id": challenge_id,
                "code": code,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        challenge_id = UUID(d.pop("challenge_id"))

        code = d.pop("code")

        otp_verify = cls(
            challenge_id=challenge_id,
            code=code,
        )

        return otp_verify
