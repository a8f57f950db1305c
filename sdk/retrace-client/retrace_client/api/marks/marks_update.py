from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.mark_out import MarkOut
from ...models.mark_patch import MarkPatch
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    mark_id: UUID,
    *,
    body: MarkPatch,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/marks/{mark_id}".format(
            mark_id=quote(str(mark_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> MarkOut | Problem | None:
    if response.status_code == 200:
        response_200 = MarkOut.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[MarkOut | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    mark_id: UUID,
    *,
    client: AuthenticatedClient,
    body: MarkPatch,
) -> Response[MarkOut | Problem]:
    """Update

    Args:
        mark_id (UUID):
        body (MarkPatch): Only the fields present are changed; an explicit null clears a field. A
            mark keeps a url or a note:
            a patch that would leave it with neither (clearing the url of a mark that has no note, the
            note of one
            that has no url, or both at once) is a 422 `url_or_note_required`. The stored mark
            decides, so no
            schema keyword states it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MarkOut | Problem]
    """

    kwargs = _get_kwargs(
        mark_id=mark_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    mark_id: UUID,
    *,
    client: AuthenticatedClient,
    body: MarkPatch,
) -> MarkOut | Problem | None:
    """Update

    Args:
        mark_id (UUID):
        body (MarkPatch): Only the fields present are changed; an explicit null clears a field. A
            mark keeps a url or a note:
            a patch that would leave it with neither (clearing the url of a mark that has no note, the
            note of one
            that has no url, or both at once) is a 422 `url_or_note_required`. The stored mark
            decides, so no
            schema keyword states it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MarkOut | Problem
    """

    return sync_detailed(
        mark_id=mark_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    mark_id: UUID,
    *,
    client: AuthenticatedClient,
    body: MarkPatch,
) -> Response[MarkOut | Problem]:
    """Update

    Args:
        mark_id (UUID):
        body (MarkPatch): Only the fields present are changed; an explicit null clears a field. A
            mark keeps a url or a note:
            a patch that would leave it with neither (clearing the url of a mark that has no note, the
            note of one
            that has no url, or both at once) is a 422 `url_or_note_required`. The stored mark
            decides, so no
            schema keyword states it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MarkOut | Problem]
    """

    kwargs = _get_kwargs(
        mark_id=mark_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    mark_id: UUID,
    *,
    client: AuthenticatedClient,
    body: MarkPatch,
) -> MarkOut | Problem | None:
    """Update

    Args:
        mark_id (UUID):
        body (MarkPatch): Only the fields present are changed; an explicit null clears a field. A
            mark keeps a url or a note:
            a patch that would leave it with neither (clearing the url of a mark that has no note, the
            note of one
            that has no url, or both at once) is a 422 `url_or_note_required`. The stored mark
            decides, so no
            schema keyword states it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MarkOut | Problem
    """

    return (
        await asyncio_detailed(
            mark_id=mark_id,
            client=client,
            body=body,
        )
    ).parsed
