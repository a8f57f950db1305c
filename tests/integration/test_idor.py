"""Nobody reaches another user's objects: every route with an id answers 404 for someone else's mark,
attachment or token, exactly as for a missing one, and changes nothing."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.integration.flows import Json, assert_problem, create_mark, get_mark, upload
from tools.lattice.seam.accounts import SignedInUser

_BYTES = b"their private bytes"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {mark} or {token} stands for the victim's id
    body: Json | None = None
    content: bytes | None = None


ROUTES = [
    Route("GET", "/v1/marks/{mark}"),
    Route("PATCH", "/v1/marks/{mark}", body={"title": "stolen", "url": "https://evil.example/"}),
    Route("DELETE", "/v1/marks/{mark}"),
    Route("GET", "/v1/marks/{mark}/attachment"),
    Route("PUT", "/v1/marks/{mark}/attachment", content=b"overwritten"),
    Route("DELETE", "/v1/marks/{mark}/attachment"),
    Route("DELETE", "/v1/tokens/{token}"),
]


@dataclass
class Victim:
    owner: SignedInUser
    mark: Json
    token_id: str
    token_secret: str


@pytest.fixture
def victim(api: httpx.Client, other_user: SignedInUser) -> Victim:
    mark = create_mark(api, other_user.headers, url="https://private.example/", note="secret", tags=["mine"])
    upload(api, other_user.headers, mark["id"], _BYTES, "text/plain")
    token = api.post("/v1/tokens", json={"name": "theirs"}, headers=other_user.headers).json()
    return Victim(other_user, get_mark(api, other_user.headers, mark["id"]), token["id"], token["token"])


def _call(
    api: httpx.Client, route: Route, headers: dict[str, str], mark_id: str, token_id: str
) -> httpx.Response:
    return api.request(
        route.method,
        route.path.format(mark=mark_id, token=token_id),
        json=route.body,
        content=route.content,
        headers=headers,
    )


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
@pytest.mark.parametrize("credential", ["session", "api"])
def test_another_users_object_is_404_and_untouched(
    api: httpx.Client, user: SignedInUser, victim: Victim, route: Route, credential: str
) -> None:
    headers = user.headers if credential == "session" else user.api_headers
    stolen = _call(api, route, headers, victim.mark["id"], victim.token_id)
    missing = _call(api, route, headers, str(uuid.uuid4()), str(uuid.uuid4()))
    assert_problem(stolen, 404, "not_found")
    assert_problem(missing, 404, "not_found")
    assert stolen.json() == missing.json(), "someone else's object must look exactly like a missing one"

    owner = victim.owner.headers
    assert get_mark(api, owner, victim.mark["id"]) == victim.mark
    attachment = api.get(f"/v1/marks/{victim.mark['id']}/attachment", headers=owner)
    assert attachment.content == _BYTES
    assert attachment.headers["etag"] == f'"{hashlib.sha256(_BYTES).hexdigest()}"'
    assert api.get("/v1/me", headers={"Authorization": f"Bearer {victim.token_secret}"}).status_code == 200
    listed = [t["id"] for t in api.get("/v1/tokens", headers=owner).json()]
    assert victim.token_id in listed


def test_lists_show_only_ones_own(api: httpx.Client, user: SignedInUser, victim: Victim) -> None:
    assert api.get("/v1/marks", headers=user.headers).json()["items"] == []
    assert api.get("/v1/marks", params={"tag": "mine"}, headers=user.headers).json()["items"] == []
    mine = {t["id"] for t in api.get("/v1/tokens", headers=user.headers).json()}
    assert victim.token_id not in mine


def test_cursor_from_another_user_reveals_nothing(
    api: httpx.Client, user: SignedInUser, other_user: SignedInUser
) -> None:
    for i in range(3):
        create_mark(api, other_user.headers, note=f"theirs {i}")
    their_cursor = api.get("/v1/marks", params={"limit": 1}, headers=other_user.headers).json()["next_cursor"]
    assert their_cursor
    page = api.get("/v1/marks", params={"cursor": their_cursor}, headers=user.headers).json()
    assert page == {"items": [], "next_cursor": None}
