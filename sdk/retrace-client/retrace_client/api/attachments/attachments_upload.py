from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.attachment_out import AttachmentOut
from ...models.problem import Problem
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    mark_id: UUID,
    *,
    body: File | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/v1/marks/{mark_id}/attachment".format(
            mark_id=quote(str(mark_id), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AttachmentOut | Problem | None:
    if response.status_code == 200:
        response_200 = AttachmentOut.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 411:
        response_411 = Problem.from_dict(response.json())

        return response_411

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AttachmentOut | Problem]:
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
    body: File | Unset = UNSET,
) -> Response[AttachmentOut | Problem]:
    """Store the request body as the mark's attachment

    Args:
        mark_id (UUID):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AttachmentOut | Problem]
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
    body: File | Unset = UNSET,
) -> AttachmentOut | Problem | None:
    """Store the request body as the mark's attachment

    Args:
        mark_id (UUID):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AttachmentOut | Problem
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
    body: File | Unset = UNSET,
) -> Response[AttachmentOut | Problem]:
    """Store the request body as the mark's attachment

    Args:
        mark_id (UUID):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AttachmentOut | Problem]
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
    body: File | Unset = UNSET,
) -> AttachmentOut | Problem | None:
    """Store the request body as the mark's attachment

    Args:
        mark_id (UUID):
        body (File | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AttachmentOut | Problem
    """

    return (
        await asyncio_detailed(
            mark_id=mark_id,
            client=client,
            body=body,
        )
    ).parsed
