"""The API's answers carried no Cache-Control: a shared cache on the way was free to keep them.

What broke: no answer said `Cache-Control`, so a proxy or a browser's cache could store (and serve to
someone else) a user's marks, their attachment's bytes, or a sign-in's session token. Found by a
grey-box probe (issue 26, hardening).

What fixed it: one rule around the whole app (`app/http_policy.py`, installed in `app/main.py` outside
every other layer, so even the catch-all 500 follows it): every answer under `/v1` carries
`Cache-Control: no-store`; the document lists the header on every response of every `/v1` operation
(`app/openapi.py`), and docs/api.md states it.

Locked reproduction: every operation of the document, asked once anonymously and once as a signed-in
user, plus a path under /v1 that does not exist, a download (200 and 304) and a sign-in's answer: each
answer carries exactly `Cache-Control: no-store`, and the document says so for each response. Checked:
on the code before the fix none carries it (this case fails).
"""

from __future__ import annotations

import httpx

from tests.integration.flows import create_mark, unique_email
from tools.lattice.seam.accounts import Mailbox, sign_in

ANY_ID = "00000000-0000-4000-8000-000000000000"


def _no_store(response: httpx.Response) -> bool:
    return response.headers.get_list("cache-control") == ["no-store"]


def test_every_answer_under_v1_says_no_store(api: httpx.Client, mailbox: Mailbox) -> None:
    user = sign_in(api, mailbox, unique_email("private"))  # its own: the sweep deletes it
    document = api.get("/openapi.json").json()
    answers: dict[str, httpx.Response] = {}
    # First: the sweep below deletes the account (DELETE /v1/me).
    mark = create_mark(api, user.headers, note="cached?")
    download = f"/v1/marks/{mark['id']}/attachment"
    assert api.put(download, content=b"private bytes", headers=user.headers).status_code == 200
    answers["GET download (200)"] = got = api.get(download, headers=user.headers)
    answers["GET download (304)"] = api.get(
        download, headers={**user.headers, "If-None-Match": got.headers["etag"]}
    )
    for path, item in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        target = path.replace("{mark_id}", ANY_ID).replace("{token_id}", ANY_ID)
        for method, operation in item.items():
            for who, headers in (("anonymous", {}), ("signed in", user.headers)):
                answers[f"{method.upper()} {path} ({who})"] = api.request(method, target, headers=headers)
            undocumented = [
                s for s, r in operation["responses"].items() if "Cache-Control" not in r.get("headers", {})
            ]
            assert not undocumented, (
                f"{method.upper()} {path}: no Cache-Control documented for {undocumented}"
            )
    answers["GET /v1/nothing-here"] = api.get("/v1/nothing-here")
    missing = {name: r.headers.get("cache-control") for name, r in answers.items() if not _no_store(r)}
    assert not missing, f"answers without `Cache-Control: no-store`: {missing}"
    # The one answer that hands out a credential, through the real sign-in flow.
    signed_in: list[httpx.Response] = []
    api.event_hooks["response"].append(signed_in.append)
    try:
        sign_in(api, mailbox, unique_email("cached"))
    finally:
        api.event_hooks["response"].remove(signed_in.append)
    assert signed_in, "the sign-in flow made no request"
    assert all(_no_store(r) for r in signed_in), [
        (r.request.url.path, r.headers.get("cache-control")) for r in signed_in
    ]


def test_answers_outside_v1_may_be_cached(api: httpx.Client) -> None:
    assert "cache-control" not in api.get("/healthz").headers
