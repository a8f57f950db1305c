"""Client-side flows shared by the integration suites: plain functions over an httpx.Client.

Nothing here knows whether the client talks to the app in-process or to a live port, so the live-stack
suite reuses every helper as it is.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import httpx

PROBLEM_MEDIA_TYPE = "application/problem+json"
FINAL_STATUSES = ("success", "failed")

Headers = Mapping[str, str]
Json = dict[str, Any]


def unique_email(label: str = "person") -> str:
    """An address nobody else in any run uses, on the reserved `.test` domain."""
    return f"{label}-{uuid.uuid4().hex[:12]}@example.test"


def assert_problem(response: httpx.Response, status: int, code: str) -> Json:
    """The answer is an RFC 9457 problem with this status and code; returns its body."""
    assert response.status_code == status, (
        f"expected {status} {code}, got {response.status_code}: {response.content[:300]!r}"
    )
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert media_type == PROBLEM_MEDIA_TYPE, f"a {status} answered {media_type!r}, not {PROBLEM_MEDIA_TYPE}"
    body: Json = response.json()
    assert body["code"] == code, body
    assert body["status"] == status, body
    for key in ("type", "title", "detail"):
        assert isinstance(body.get(key), str), f"problem body without {key!r}: {body}"
        assert body[key], f"problem body with an empty {key!r}: {body}"
    if code == "unauthenticated":
        assert response.headers.get("www-authenticate", "").startswith("Bearer"), response.headers
    return body


def assert_validation_problem(response: httpx.Response, *field_names: str) -> Json:
    """A 422 `validation_failed` whose `errors` name each given field somewhere in their `loc`."""
    body = assert_problem(response, 422, "validation_failed")
    if field_names:
        errors = body.get("errors")
        assert errors, f"a validation problem without errors: {body}"
        locations = [[str(part) for part in error["loc"]] for error in errors]
        for name in field_names:
            assert any(name in loc for loc in locations), f"no error names {name!r}: {locations}"
    return body


def request_code(client: httpx.Client, email: str) -> uuid.UUID:
    """POST /v1/auth/otp; asserts 202 and returns the challenge id (the code goes to the mailbox)."""
    response = client.post("/v1/auth/otp", json={"email": email})
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["challenge_id"])


def create_mark(client: httpx.Client, headers: Headers, **fields: Any) -> Json:
    """POST /v1/marks; asserts 201 and a Location naming the new mark."""
    if not fields:
        fields = {"url": "https://example.org/", "note": "a note"}
    response = client.post("/v1/marks", json=fields, headers=headers)
    assert response.status_code == 201, response.text
    mark: Json = response.json()
    assert response.headers["location"] == f"/v1/marks/{mark['id']}"
    return mark


def get_mark(client: httpx.Client, headers: Headers, mark_id: str) -> Json:
    response = client.get(f"/v1/marks/{mark_id}", headers=headers)
    assert response.status_code == 200, response.text
    mark: Json = response.json()
    return mark


def patch_mark(client: httpx.Client, headers: Headers, mark_id: str, **changes: Any) -> Json:
    response = client.patch(f"/v1/marks/{mark_id}", json=changes, headers=headers)
    assert response.status_code == 200, response.text
    mark: Json = response.json()
    return mark


def upload(
    client: httpx.Client,
    headers: Headers,
    mark_id: str,
    data: bytes,
    content_type: str = "application/octet-stream",
) -> Json:
    """PUT the attachment; asserts 200 and the echoed size."""
    response = client.put(
        f"/v1/marks/{mark_id}/attachment", content=data, headers={**headers, "Content-Type": content_type}
    )
    assert response.status_code == 200, response.text
    body: Json = response.json()
    assert body["size"] == len(data)
    return body


def list_page(client: httpx.Client, headers: Headers, **params: Any) -> Json:
    response = client.get("/v1/marks", params=params, headers=headers)
    assert response.status_code == 200, response.text
    page: Json = response.json()
    return page


def walk_marks(client: httpx.Client, headers: Headers, *, limit: int = 20, **params: Any) -> list[Json]:
    """Follow `next_cursor` to the end; returns every item in the order the pages gave them."""
    seen: list[Json] = []
    cursor: str | None = None
    for _ in range(10_000):
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        page = list_page(client, headers, **query)
        assert len(page["items"]) <= limit
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
        assert page["items"], "a page with a next_cursor but no items"
    raise AssertionError("the cursor walk never ended")


def wait_for_ingestion(
    client: httpx.Client,
    headers: Headers,
    mark_id: str,
    *,
    version: int | None = None,
    timeout_s: float = 15.0,
) -> Json:
    """Poll the mark until its ingestion (of `version`, if given) is final; returns the mark.

    In-process tests drain the queue with the `worker` fixture instead; this is for a live stack.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        mark = get_mark(client, headers, mark_id)
        ingestion = mark["ingestion"]
        if ingestion["status"] in FINAL_STATUSES and (version is None or ingestion["version"] == version):
            return mark
        if time.monotonic() > deadline:
            raise AssertionError(f"ingestion of {mark_id} not final after {timeout_s}s: {ingestion}")
        time.sleep(0.02)


class Pausable(Protocol):
    def pause(self) -> None: ...
    def resume(self) -> None: ...


@contextmanager
def paused(worker: Pausable) -> Iterator[None]:
    """Hold the worker still (messages stay queued) for the block; it resumes even when the block fails."""
    worker.pause()
    try:
        yield
    finally:
        worker.resume()
