from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.ingestion_status import IngestionStatus
from ...models.mark_page import MarkPage
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    tag: None | str | Unset = UNSET,
    status: IngestionStatus | None | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    json_cursor: None | str | Unset
    if isinstance(cursor, Unset):
        json_cursor = UNSET
    else:
        json_cursor = cursor
    params["cursor"] = json_cursor

    json_tag: None | str | Unset
    if isinstance(tag, Unset):
        json_tag = UNSET
    else:
        json_tag = tag
    params["tag"] = json_tag

    json_status: None | str | Unset
    if isinstance(status, Unset):
        json_status = UNSET
    elif isinstance(status, IngestionStatus):
        json_status = status.value
    else:
        json_status = status
    params["status"] = json_status

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/marks",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> MarkPage | Problem | None:
    if response.status_code == 200:
        response_200 = MarkPage.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[MarkPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    tag: None | str | Unset = UNSET,
    status: IngestionStatus | None | Unset = UNSET,
) -> Response[MarkPage | Problem]:
    """List

    Args:
        limit (int | Unset): Written with the digits 0-9 only (not `1.0`, `+5` or ` 5`). Default:
            20.
        cursor (None | str | Unset): Opaque: a page's `next_cursor`, as this service issued it;
            any other value is a 422 `invalid_cursor`.
        tag (None | str | Unset): Marks carrying this tag, compared in the tags' normal form
            (surrounding whitespace and format characters removed, lower-cased, NFC).
        status (IngestionStatus | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MarkPage | Problem]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        tag=tag,
        status=status,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    tag: None | str | Unset = UNSET,
    status: IngestionStatus | None | Unset = UNSET,
) -> MarkPage | Problem | None:
    """List

    Args:
        limit (int | Unset): Written with the digits 0-9 only (not `1.0`, `+5` or ` 5`). Default:
            20.
        cursor (None | str | Unset): Opaque: a page's `next_cursor`, as this service issued it;
            any other value is a 422 `invalid_cursor`.
        tag (None | str | Unset): Marks carrying this tag, compared in the tags' normal form
            (surrounding whitespace and format characters removed, lower-cased, NFC).
        status (IngestionStatus | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MarkPage | Problem
    """

    return sync_detailed(
        client=client,
        limit=limit,
        cursor=cursor,
        tag=tag,
        status=status,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    tag: None | str | Unset = UNSET,
    status: IngestionStatus | None | Unset = UNSET,
) -> Response[MarkPage | Problem]:
    """List

    Args:
        limit (int | Unset): Written with the digits 0-9 only (not `1.0`, `+5` or ` 5`). Default:
            20.
        cursor (None | str | Unset): Opaque: a page's `next_cursor`, as this service issued it;
            any other value is a 422 `invalid_cursor`.
        tag (None | str | Unset): Marks carrying this tag, compared in the tags' normal form
            (surrounding whitespace and format characters removed, lower-cased, NFC).
        status (IngestionStatus | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MarkPage | Problem]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        tag=tag,
        status=status,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: None | str | Unset = UNSET,
    tag: None | str | Unset = UNSET,
    status: IngestionStatus | None | Unset = UNSET,
) -> MarkPage | Problem | None:
    """List

    Args:
        limit (int | Unset): Written with the digits 0-9 only (not `1.0`, `+5` or ` 5`). Default:
            20.
        cursor (None | str | Unset): Opaque: a page's `next_cursor`, as this service issued it;
            any other value is a 422 `invalid_cursor`.
        tag (None | str | Unset): Marks carrying this tag, compared in the tags' normal form
            (surrounding whitespace and format characters removed, lower-cased, NFC).
        status (IngestionStatus | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MarkPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            cursor=cursor,
            tag=tag,
            status=status,
        )
    ).parsed
