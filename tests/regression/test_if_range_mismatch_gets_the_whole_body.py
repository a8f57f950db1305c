"""`If-Range` was ignored: a client resuming a download of an old version got a part of the new one.

What broke: `GET /v1/marks/{id}/attachment` honoured `Range` whatever `If-Range` said. RFC 9110 §13.1.5:
when the validator in `If-Range` does not match the current representation, the server must ignore
`Range` and send the whole body (200). A client resuming a download after the attachment was replaced
stitched together bytes of two different files. Found by black-box probing (issue 13).

What fixed it: the range is honoured only when `If-Range` is absent or is exactly the current strong
`ETag`; a weak tag or a date (attachments have no Last-Modified) gets the whole body
(`app/ranges.py`, `if_range_holds`).

Locked reproduction: one attachment read with `Range: bytes=0-3` under a matching, a stale, a weak and a
date `If-Range`. Checked: on the code before the fix the stale one answers 206 (this case fails).
"""

from __future__ import annotations

import httpx
import pytest

from tests.integration.flows import create_mark, upload
from tools.lattice.seam.accounts import SignedInUser

DATA = b"0123456789"


@pytest.mark.parametrize(
    ("if_range", "status", "body"),
    [
        (None, 206, DATA[:4]),
        ("current", 206, DATA[:4]),
        ('"0000000000000000000000000000000000000000000000000000000000000000"', 200, DATA),
        ("weak", 200, DATA),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 200, DATA),
    ],
)
def test_range_is_honoured_only_for_the_current_etag(
    api: httpx.Client, user: SignedInUser, if_range: str | None, status: int, body: bytes
) -> None:
    mark = create_mark(api, user.headers, note="resumable")
    etag = '"' + upload(api, user.headers, mark["id"], DATA)["sha256"] + '"'
    headers = {**user.headers, "Range": "bytes=0-3"}
    if if_range is not None:
        headers["If-Range"] = {"current": etag, "weak": f"W/{etag}"}.get(if_range, if_range)
    response = api.get(f"/v1/marks/{mark['id']}/attachment", headers=headers)
    assert (response.status_code, response.content) == (status, body)
