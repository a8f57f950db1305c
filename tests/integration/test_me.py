"""/v1/me: read, rename within 1..80 characters, and delete with every token, mark and blob file."""

from __future__ import annotations

import os
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.settings import Settings
from tests.integration.flows import (
    Json,
    assert_problem,
    assert_validation_problem,
    create_mark,
    unique_email,
    upload,
)
from tests.schema_tables import USER_PATCH, accepted, refused
from tools.lattice.seam.accounts import Mailbox, SignedInUser, sign_in


def _blob_files(settings: Settings) -> set[str]:
    return {name for _, _, names in os.walk(settings.blob_dir) for name in names}


def test_get_me(api: httpx.Client, user: SignedInUser) -> None:
    response = api.get("/v1/me", headers=user.headers)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": str(user.id),
        "email": user.email,
        "display_name": None,
        "created_at": body["created_at"],
    }


@pytest.mark.parametrize("body", accepted(USER_PATCH))
def test_patch_display_name(api: httpx.Client, user: SignedInUser, body: Json) -> None:
    response = api.patch("/v1/me", json=body, headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == body["display_name"]
    assert api.get("/v1/me", headers=user.headers).json()["display_name"] == body["display_name"]


@pytest.mark.parametrize(("body", "field"), refused(USER_PATCH))
def test_patch_display_name_validation(api: httpx.Client, user: SignedInUser, body: Json, field: str) -> None:
    assert_validation_problem(api.patch("/v1/me", json=body, headers=user.headers), field)
    assert api.get("/v1/me", headers=user.headers).json()["display_name"] is None


def test_delete_me_takes_tokens_marks_and_blob_files(
    api: httpx.Client, mailbox: Mailbox, db: Session, settings: Settings, other_user: SignedInUser
) -> None:
    doomed = sign_in(api, mailbox, unique_email("doomed"), with_api_token=True)
    marks = [create_mark(api, doomed.headers, note=f"note {i}") for i in range(3)]
    for mark in marks[:2]:
        upload(api, doomed.headers, mark["id"], os.urandom(1000))
    survivor = create_mark(api, other_user.headers, note="not mine")
    upload(api, other_user.headers, survivor["id"], b"keep me")
    survivor_blob = db.execute(
        text("SELECT blob_id FROM attachments WHERE mark_id = :m"), {"m": uuid.UUID(survivor["id"])}
    ).scalar_one()
    assert len(_blob_files(settings)) == 3

    assert api.delete("/v1/me", headers=doomed.headers).status_code == 204

    for table, column in (("users", "id"), ("tokens", "user_id"), ("marks", "user_id")):
        count = db.execute(
            text(f"SELECT count(*) FROM {table} WHERE {column} = :u"),  # noqa: S608 - constant names
            {"u": doomed.id},
        ).scalar()
        assert count == 0, f"{table} still holds rows of the deleted user"
    ids = [uuid.UUID(m["id"]) for m in marks]
    for table in ("attachments", "ingestions"):
        count = db.execute(
            text(f"SELECT count(*) FROM {table} WHERE mark_id = ANY(:ids)"),  # noqa: S608 - constant names
            {"ids": ids},
        ).scalar()
        assert count == 0, f"{table} still holds rows of the deleted user's marks"
    assert _blob_files(settings) == {survivor_blob.hex}, "blob files of the deleted user remain on disk"
    assert_problem(api.get("/v1/me", headers=doomed.headers), 401, "unauthenticated")
    assert_problem(api.get("/v1/me", headers=doomed.api_headers), 401, "unauthenticated")
    assert api.get(f"/v1/marks/{survivor['id']}", headers=other_user.headers).status_code == 200


def test_signing_in_again_after_delete_is_a_new_user(api: httpx.Client, mailbox: Mailbox) -> None:
    email = unique_email("again")
    first = sign_in(api, mailbox, email)
    assert api.delete("/v1/me", headers=first.headers).status_code == 204
    second = sign_in(api, mailbox, email)
    assert second.id != first.id
    assert api.get("/v1/me", headers=second.headers).json()["email"] == email


def test_me_requires_authentication(api: httpx.Client) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = api.request(method, "/v1/me", json={"display_name": "x"} if method == "PATCH" else None)
        assert_problem(response, 401, "unauthenticated")
