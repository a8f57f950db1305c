"""The generated SDK had no way to upload an attachment.

What broke: `PUT /v1/marks/{mark_id}/attachment` documented its request body only under the `*/*`
wildcard. openapi-python-client 0.29 does not support a wildcard as the only body type and drops the
whole operation ("Endpoint will not be generated").

How it showed: generating sdk/retrace-client from the committed document warned and produced no
`attachments_upload` module, so typed clients could not upload at all.

What fixed it: app/routes/attachments.py lists `application/octet-stream` first and keeps `*/*` beside
it; the service still stores whatever media type is sent — commit 49a13ab.

Locked reproduction: the served document's upload operation names `application/octet-stream` first, and
an upload with that media type (what the SDK sends) is stored and read back. Checked: with 49a13ab
reverted in a scratch copy this case fails; with it, it passes.
"""

from __future__ import annotations

import hashlib

import httpx

from tools.lattice.seam.accounts import SignedInUser


def test_upload_documents_a_concrete_media_type_first(api: httpx.Client, user: SignedInUser) -> None:
    document = api.get("/openapi.json").json()
    body = document["paths"]["/v1/marks/{mark_id}/attachment"]["put"]["requestBody"]
    media_types = list(body["content"])
    assert media_types[0] == "application/octet-stream", media_types
    assert "*/*" in media_types, "any media type must still be accepted"

    mark = api.post("/v1/marks", json={"note": "sdk upload"}, headers=user.headers)
    assert mark.status_code == 201, mark.text
    payload = bytes(range(256)) * 4
    path = f"/v1/marks/{mark.json()['id']}/attachment"
    headers = {**user.headers, "Content-Type": "application/octet-stream"}
    stored = api.put(path, content=payload, headers=headers)
    assert stored.status_code == 200, stored.text
    assert stored.json()["sha256"] == hashlib.sha256(payload).hexdigest()
    assert api.get(path, headers=user.headers).content == payload
