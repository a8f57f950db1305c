"""What the syrupy snapshots of the integration suite record, and the matcher that masks what changes
from run to run.

A snapshot of an answer is the exchange a reader wants to review in a diff: the request line, the status,
the headers a client acts on, and the body. Ids and timestamps differ in every run (each xdist worker
signs up its own users, every mark gets a fresh UUID), so `MASK_VOLATILE` replaces them, wherever they
appear in a string, by a fixed placeholder: the snapshot keeps where an id was, not which one.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from syrupy.types import PropertyPath, SerializableData

# The headers a client acts on after an error: the problem's media type, how to authenticate, when to
# retry, which methods exist, how long the stored attachment is.
SNAPSHOT_HEADERS = ("content-type", "www-authenticate", "retry-after", "allow", "content-range")

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?")


def exchange(response: httpx.Response) -> dict[str, Any]:
    """The request line, status, client-facing headers and JSON body of one answer."""
    request = response.request
    target = request.url.path + (f"?{request.url.query.decode()}" if request.url.query else "")
    return {
        "request": f"{request.method} {target}",
        "status": response.status_code,
        "headers": {name: response.headers[name] for name in SNAPSHOT_HEADERS if name in response.headers},
        "body": response.json(),
    }


def mask_volatile(*, data: SerializableData, path: PropertyPath) -> SerializableData:
    """syrupy matcher: UUIDs become `<uuid>` and ISO timestamps `<timestamp>` inside any string."""
    if isinstance(data, str):
        return _TIMESTAMP.sub("<timestamp>", _UUID.sub("<uuid>", data))
    return data
