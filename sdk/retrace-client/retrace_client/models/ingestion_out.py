from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.ingestion_status import IngestionStatus

if TYPE_CHECKING:
    from ..models.ingestion_result import IngestionResult


T = TypeVar("T", bound="IngestionOut")


@_attrs_define
class IngestionOut:
    """
    Attributes:
        attempts (int):
        error (None | str):
        ingested_at (datetime.datetime | None):
        result (IngestionResult | None):
        status (IngestionStatus):
        version (int):
    """

    attempts: int
    error: None | str
    ingested_at: datetime.datetime | None
    result: IngestionResult | None
    status: IngestionStatus
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.ingestion_result import IngestionResult  # noqa: PLC0415

        attempts = self.attempts

        error: None | str
        error = self.error

        ingested_at: None | str
        if isinstance(self.ingested_at, datetime.datetime):
            ingested_at = self.ingested_at.isoformat()
        else:
            ingested_at = self.ingested_at

        result: dict[str, Any] | None
        if isinstance(self.result, IngestionResult):
            result = self.result.to_dict()
        else:
            result = self.result

        status = self.status.value

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "error": error,
                "ingested_at": ingested_at,
                "result": result,
                "status": status,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ingestion_result import IngestionResult  # noqa: PLC0415

        d = dict(src_dict)
        attempts = d.pop("attempts")

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        def _parse_ingested_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                ingested_at_type_0 = datetime.datetime.fromisoformat(data)

                return ingested_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        ingested_at = _parse_ingested_at(d.pop("ingested_at"))

        def _parse_result(data: object) -> IngestionResult | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = IngestionResult.from_dict(data)

                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(IngestionResult | None, data)

        result = _parse_result(d.pop("result"))

        status = IngestionStatus(d.pop("status"))

        version = d.pop("version")

        ingestion_out = cls(
            attempts=attempts,
            error=error,
            ingested_at=ingested_at,
            result=result,
            status=status,
            version=version,
        )

        ingestion_out.additional_properties = d
        return ingestion_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
