"""The OpenAPI links sent clients from a new mark to an attachment it cannot have.

What broke: app/openapi.py linked marks-create's id to attachments-download and attachments-delete, but
a freshly created mark has no attachment, so following those links always gives 404.

How it showed: schemathesis' stateful phase (nox -s peer) reported ST302 'Created resource not found'
(POST /v1/marks then DELETE /v1/marks/{id}/attachment -> 404) and warned that GET .../attachment
'repeatedly returned 404'.

What fixed it: marks-create links to get/update/delete/upload only; attachments-upload links to download
and delete with `$request.path.mark_id` — commit 3f75c3b.

Locked reproduction: the served document's links, and the walk a link-following client makes (create,
then every linked operation; upload, then its linked ones) never meets a 404. Checked: with 3f75c3b
reverted in a scratch copy this case fails; with it, it passes.
"""

from __future__ import annotations

from typing import Any

import httpx

from tools.lattice.seam.accounts import SignedInUser


def _links(document: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    links: dict[str, Any] = document["paths"][path][method]["responses"][status].get("links", {})
    return {link["operationId"]: link for link in links.values()}


def test_links_from_a_new_mark_lead_to_what_exists(api: httpx.Client, user: SignedInUser) -> None:
    document = api.get("/openapi.json").json()
    from_create = _links(document, "/v1/marks", "post", "201")
    assert "attachments-download" not in from_create
    assert "attachments-delete" not in from_create
    assert {"marks-get", "attachments-upload"} <= set(from_create)
    from_upload = _links(document, "/v1/marks/{mark_id}/attachment", "put", "200")
    assert {"attachments-download", "attachments-delete"} <= set(from_upload)
    assert from_upload["attachments-download"]["parameters"]["mark_id"] == "$request.path.mark_id"

    mark = api.post("/v1/marks", json={"note": "linked"}, headers=user.headers)
    assert mark.status_code == 201, mark.text
    path = f"/v1/marks/{mark.json()['id']}/attachment"
    assert api.get(f"/v1/marks/{mark.json()['id']}", headers=user.headers).status_code == 200
    headers = {**user.headers, "Content-Type": "application/octet-stream"}
    assert api.put(path, content=b"attached", headers=headers).status_code == 200
    assert api.get(path, headers=user.headers).status_code == 200
    assert api.delete(path, headers=user.headers).status_code == 204
