"""`HEAD` on an attachment's download answered 405.

What broke: FastAPI's routes answer only the methods they are declared with, so `HEAD` on any `GET`
path (the download above all: a client asks for the size and `ETag` before fetching) was a 405, though
RFC 9110 (9.3.2) has every general-purpose server answer HEAD like GET. Found by a grey-box probe
(issue 26, hardening).

What fixed it: one rule around the whole app (`app/http_policy.py`): `HEAD` is answered as `GET` would
be (same status, same headers) without the body; the download, told it is a HEAD, does not read its
blob (`app/routes/blob_response.py`). docs/api.md states it; the document lists no separate HEAD
operations.

Locked reproduction: HEAD and GET on a download (whole, with a Range, with a matching If-None-Match)
and on `GET /v1/me` and a missing mark: same status, same headers (but Date), an empty body.
Checked: on the code before the fix each HEAD answers 405 (this case fails).
"""

from __future__ import annotations

import httpx

from tests.integration.flows import create_mark
from tools.lattice.seam.accounts import SignedInUser

BYTES = b"0123456789" * 1000


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "date"}


def test_head_answers_like_get_without_the_body(api: httpx.Client, user: SignedInUser) -> None:
    mark = create_mark(api, user.headers, note="sized")
    download = f"/v1/marks/{mark['id']}/attachment"
    assert api.put(download, content=BYTES, headers={**user.headers, "Content-Type": "text/plain"}).is_success
    etag = api.get(download, headers=user.headers).headers["etag"]
    asked = {
        "download": (download, {}),
        "download, a range": (download, {"Range": "bytes=10-19"}),
        "download, not modified": (download, {"If-None-Match": etag}),
        "me": ("/v1/me", {}),
        "a missing mark": ("/v1/marks/00000000-0000-4000-8000-000000000000/attachment", {}),
    }
    for name, (path, extra) in asked.items():
        get = api.get(path, headers={**user.headers, **extra})
        head = api.head(path, headers={**user.headers, **extra})
        assert (head.status_code, _headers(head)) == (get.status_code, _headers(get)), name
        assert head.content == b"", name
    whole = api.head(download, headers=user.headers)
    assert whole.status_code == 200
    assert whole.headers["content-length"] == str(len(BYTES))
