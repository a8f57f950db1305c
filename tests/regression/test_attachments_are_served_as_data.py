"""Attachments were served back with their uploaded Content-Type and nothing else: a stored page could run.

What broke: an attachment uploaded as `text/html` (or sniffed as such) was served from the API's origin
as that type, with no `X-Content-Type-Options: nosniff`: a browser opening the URL would render it, and
any script in it would run with the API's origin. Found by black-box probing (issue 13).

What fixed it: the policy, written in docs/api.md: the stored Content-Type is kept (clients rely on it),
and every download carries `X-Content-Type-Options: nosniff` and
`Content-Security-Policy: default-src 'none'; sandbox` (`app/routes/attachments.py`).

Locked reproduction: an HTML attachment read whole, by range, and as a 304. Checked: on the code before
the fix the headers are missing (this case fails).
"""

from __future__ import annotations

import httpx

from tests.integration.flows import create_mark, upload
from tools.lattice.seam.accounts import SignedInUser

PAGE = b"<html><script>alert(document.domain)</script></html>"


def test_every_download_is_served_as_inert_data(api: httpx.Client, user: SignedInUser) -> None:
    mark = create_mark(api, user.headers, note="a page")
    etag = '"' + upload(api, user.headers, mark["id"], PAGE, "text/html")["sha256"] + '"'
    url = f"/v1/marks/{mark['id']}/attachment"
    answers = [
        api.get(url, headers=user.headers),
        api.get(url, headers={**user.headers, "Range": "bytes=0-5"}),
        api.get(url, headers={**user.headers, "If-None-Match": etag}),
    ]
    assert [a.status_code for a in answers] == [200, 206, 304]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert answers[0].headers["content-type"] == "text/html"
