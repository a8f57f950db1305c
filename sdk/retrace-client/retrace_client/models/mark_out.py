from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.attachment_out import AttachmentOut
    from ..models.ingestion_out import IngestionOut


T = TypeVar("T", bound="MarkOut")


@_attrs_define
class MarkOut:
    """
    Attributes:
        attachment (AttachmentOut | None):
        created_at (datetime.datetime):
        id (UUID):
        ingestion (IngestionOut):
        note (None | str):
        tags (list[str]):
        title (None | str):
        updated_at (datetime.datetime):
        url (None | str):
    """

    attachment: AttachmentOut | None
    created_at: datetime.datetime
    id: UUID
    ingestion: IngestionOut
    note: None | str
    tags: list[str]
    title: None | str
    updated_at: datetime.datetime
    url: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.attachment_out import AttachmentOut  # noqa: PLC0415

        attachment: dict[str, Any] | None
        if isinstance(self.attachment, AttachmentOut):
            attachment = self.attachment.to_dict()
        else:
            attachment = self.attachment

        created_at = self.created_at.isoformat()

        id = str(self.id)

        ingestion = self.ingestion.to_dict()

        note: None | str
        note = self.note

        tags = self.tags

        title: None | str
        title = self.title

        updated_at = self.updated_at.isoformat()

        url: None | str
        url = self.url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attachment": attachment,
                "created_at": created_at,
                "id": id,
                "ingestion": ingestion,
                "note": note,
                "tags": tags,
                "title": title,
                "updated_at": updated_at,
                "url": url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.attachment_out import AttachmentOut  # noqa: PLC0415
        from ..models.ingestion_out import IngestionOut  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_attachment(data: object) -> AttachmentOut | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                attachment_type_0 = AttachmentOut.from_dict(data)

                return attachment_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AttachmentOut | None, data)

        attachment = _parse_attachment(d.pop("attachment"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = UUID(d.pop("id"))

        ingestion = IngestionOut.from_dict(d.pop("ingestion"))

        def _parse_note(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        note = _parse_note(d.pop("note"))

        tags = cast(list[str], d.pop("tags"))

        def _parse_title(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        title = _parse_title(d.pop("title"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        url = _parse_url(d.pop("url"))

        mark_out = cls(
            attachment=attachment,
            created_at=created_at,
            id=id,
            ingestion=ingestion,
            note=note,
            tags=tags,
            title=title,
            updated_at=updated_at,
            url=url,
        )

        mark_out.additional_properties = d
        return mark_out

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
