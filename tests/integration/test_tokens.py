"""API tokens: minted once with an `rt_` secret, listed without it, revoked at once, expiry, last use."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import Session, select

from app.models import Token, TokenKind
from tests.integration.flows import Headers, Json, assert_problem, assert_validation_problem
from tests.schema_tables import TOKEN_CREATE, accepted, refused
from tools.lattice.seam.accounts import SignedInUser


def _create(api: httpx.Client, headers: Headers, **body: object) -> Json:
    response = api.post("/v1/tokens", json={"name": "ci", **body}, headers=headers)
    assert response.status_code == 201, response.text
    created: Json = response.json()
    return created


def _listed(api: httpx.Client, headers: Headers) -> dict[str, Json]:
    response = api.get("/v1/tokens", headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()}


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_create_shows_the_secret_once_and_list_never_does(api: httpx.Client, user: SignedInUser) -> None:
    created = _create(api, user.headers, name="deploy bot")
    assert created["token"].startswith("rt_")
    assert created["name"] == "deploy bot"
    assert created["token"].startswith(created["prefix"])
    assert created["expires_at"] is None
    listed = _listed(api, user.headers)
    assert set(listed[created["id"]]) == {"id", "name", "prefix", "created_at", "expires_at", "last_used_at"}
    # What the list shows is what was stored, not an echo of the request.
    shown = listed[created["id"]]
    assert (shown["name"], shown["prefix"], shown["expires_at"]) == ("deploy bot", created["prefix"], None)
    assert created["token"] not in api.get("/v1/tokens", headers=user.headers).text


def test_api_token_authenticates_and_records_last_use(api: httpx.Client, user: SignedInUser) -> None:
    created = _create(api, user.headers)
    assert _listed(api, user.headers)[created["id"]]["last_used_at"] is None
    me = api.get("/v1/me", headers=_bearer(created["token"]))
    assert me.status_code == 200
    assert me.json()["id"] == str(user.id)
    last_used = _listed(api, user.headers)[created["id"]]["last_used_at"]
    assert last_used is not None
    assert datetime.fromisoformat(last_used) >= datetime.fromisoformat(created["created_at"])


def test_revoke_stops_the_token_at_once_and_unlists_it(api: httpx.Client, user: SignedInUser) -> None:
    created = _create(api, user.headers)
    assert api.get("/v1/me", headers=_bearer(created["token"])).status_code == 200
    response = api.delete(f"/v1/tokens/{created['id']}", headers=user.headers)
    assert response.status_code == 204
    assert_problem(api.get("/v1/me", headers=_bearer(created["token"])), 401, "unauthenticated")
    assert created["id"] not in _listed(api, user.headers)
    assert_problem(api.delete(f"/v1/tokens/{created['id']}", headers=user.headers), 404, "not_found")


def test_a_token_can_revoke_itself(api: httpx.Client, user: SignedInUser) -> None:
    created = _create(api, user.headers)
    headers = _bearer(created["token"])
    assert api.delete(f"/v1/tokens/{created['id']}", headers=headers).status_code == 204
    assert_problem(api.get("/v1/tokens", headers=headers), 401, "unauthenticated")


def test_expired_token_is_listed_but_refused(api: httpx.Client, user: SignedInUser, db: Session) -> None:
    created = _create(api, user.headers, expires_in_days=1)
    row = db.get(Token, uuid.UUID(created["id"]))
    assert row is not None
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.add(row)
    db.commit()
    assert created["id"] in _listed(api, user.headers)
    refused = api.get("/v1/me", headers=_bearer(created["token"]))
    assert_problem(refused, 401, "unauthenticated")
    assert refused.json()["detail"] == "the token has expired"  # not just "unknown": the client can say why


def test_session_tokens_are_not_listed_or_revocable(
    api: httpx.Client, user: SignedInUser, db: Session
) -> None:
    listed = _listed(api, user.headers)
    assert user.api_token_id is not None
    assert set(listed) == {str(user.api_token_id)}
    session_ids = db.exec(
        select(Token.id).where(Token.user_id == user.id, Token.kind == TokenKind.session)
    ).all()
    assert session_ids
    for token_id in session_ids:
        assert_problem(api.delete(f"/v1/tokens/{token_id}", headers=user.headers), 404, "not_found")
    assert api.get("/v1/me", headers=user.headers).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer rt_not-a-real-token", "Token abc"],
    ids=["none", "empty", "scheme-only", "scheme-space", "basic", "unknown-token", "other-scheme"],
)
def test_missing_or_malformed_credentials_are_unauthenticated(
    api: httpx.Client, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in (("GET", "/v1/tokens"), ("POST", "/v1/tokens"), ("GET", "/v1/me")):
        response = api.request(
            method, path, headers=headers, json={"name": "x"} if method == "POST" else None
        )
        assert_problem(response, 401, "unauthenticated")


@pytest.mark.parametrize("body", accepted(TOKEN_CREATE))
def test_accepted_bodies_mint_a_listed_token(api: httpx.Client, user: SignedInUser, body: Json) -> None:
    created = _create(api, user.headers, **body)
    assert created["name"] == body["name"]
    if (days := body.get("expires_in_days")) is None:
        assert created["expires_at"] is None
    else:
        lifetime = datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(
            created["created_at"]
        )
        assert lifetime == timedelta(days=days)
    assert _listed(api, user.headers)[created["id"]]["name"] == body["name"]


@pytest.mark.parametrize(("body", "field"), refused(TOKEN_CREATE))
def test_create_validation(api: httpx.Client, user: SignedInUser, body: Json, field: str) -> None:
    before = _listed(api, user.headers)
    assert_validation_problem(api.post("/v1/tokens", json=body, headers=user.headers), field)
    assert _listed(api, user.headers) == before, "a refused body minted a token"


def test_revoke_with_a_malformed_id_is_422(api: httpx.Client, user: SignedInUser) -> None:
    assert_validation_problem(api.delete("/v1/tokens/not-a-uuid", headers=user.headers), "token_id")


def test_a_route_that_authenticates_in_a_session_of_its_own_records_the_token_s_use(
    api: httpx.Client, user: SignedInUser
) -> None:
    """The upload authenticates in a short session of its own (no connection is held while the body
    arrives), which a mark that is not found closes without a commit: the token's use is committed where
    it is recorded, or it is rolled back with that session."""
    created = _create(api, user.headers)
    response = api.put(
        f"/v1/marks/{uuid.uuid4()}/attachment",
        content=b"x",
        headers={**_bearer(created["token"]), "Content-Type": "text/plain"},
    )
    assert response.status_code == 404  # authenticated, then no such mark
    assert _listed(api, user.headers)[created["id"]]["last_used_at"] is not None
