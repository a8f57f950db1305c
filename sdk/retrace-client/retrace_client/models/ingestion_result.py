from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="IngestionResult")


@_attrs_define
class IngestionResult:
    """
    Attributes:
        normalized_url (None | str):
        title (None | str):
        word_count (int):
    """

    normalized_url: None | str
    title: None | str
    word_count: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        normalized_url: None | str
        normalized_url = self.normalized_url

        title: None | str
        title = self.title

        word_count = self.word_count

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "normalized_url": normalized_url,
                "title": title,
                "word_count": word_count,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_normalized_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        normalized_url = _parse_normalized_url(d.pop("normalized_url"))

        def _parse_title(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        title = _parse_title(d.pop("title"))

        word_count = d.pop("word_count")

        ingestion_result = cls(
            normalized_url=normalized_url,
            title=title,
            word_count=word_count,
        )

        ingestion_result.additional_properties = d
        return ingestion_result

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
