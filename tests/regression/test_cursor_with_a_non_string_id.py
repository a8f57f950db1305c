"""A cursor whose id was not a string answered 500 and dropped the keep-alive connection.

What broke: app/cursor.py `decode` unpacked the cursor's JSON and handed its second item to `uuid.UUID`,
which, given a number, object, list or `true` instead of a string, raised AttributeError: not one of the
errors the decoder turned into 422 `invalid_cursor`, so the list answered 500 and uvicorn closed the
client's keep-alive connection after it. Found by grey-box probing (issue 26, defect 8).

What fixed it: the decoder matches the JSON's shape (a list of exactly two strings) before reading
either, and accepts only a cursor that re-encodes to exactly the text sent (what this service issued);
everything else is 422 `invalid_cursor`, whatever its type or size.

Locked reproduction, over a real port on one socket: `GET /v1/marks?cursor=` with an id of each wrong
JSON type, each answered 422 `invalid_cursor`, and after them `GET /v1/me` on the same connection. Wrong-typed
times ride along (they were refused already). Checked: with the fix reverted (app/cursor.py as before)
the case with an ISO time fails at its first request, answered 500; with the fix, every case passes.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from tools.lattice.engines.race.rawhttp import connect, head, read_response
from tools.lattice.live.stack import LiveStack
from tools.lattice.seam.accounts import SignedInUser

CREATED = "2026-01-01T00:00:00+00:00"
WRONG_IDS = [1, 1.5, {}, {"id": "x"}, [], ["00000000-0000-0000-0000-000000000000"], True, None]


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("created", [CREATED, 0, [], True], ids=["iso-time", "number", "list", "true"])
def test_wrong_typed_cursors_are_422_and_the_connection_stays_open(
    live_stack: LiveStack, user: SignedInUser, created: object
) -> None:
    sock = connect(live_stack.base_url)
    try:
        for wrong in WRONG_IDS:
            path = f"/v1/marks?cursor={quote(_cursor([created, wrong]))}"
            sock.sendall(head("GET", path, user.headers))
            answer = read_response(sock)
            assert answer.status == 422, (wrong, answer.status, answer.body[:200])
            assert json.loads(answer.body)["code"] == "invalid_cursor"
            assert answer.headers.get("connection") != "close"
        sock.sendall(head("GET", "/v1/me", user.headers))
        assert read_response(sock).status == 200  # the same connection, still serving
    finally:
        sock.close()
