"""The read routes build a mark from plain rows (app.marks.load_out / row_out, and GET authenticates in the
same statement: load_out_for_secret); the write routes from ORM objects (to_out). All must give the same
MarkOut, field for field, and the one-statement form the same 401 and 404 as authenticate() then load."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session, col

from app.marks import load, load_out, load_out_for_secret, to_out
from app.models import Ingestion, IngestionStatus, Token, User
from app.problems import Problem
from app.schemas import MarkOut
from tests.integration.flows import create_mark, upload
from tools.lattice.plugin.workerstate import WorkerLattice
from tools.lattice.seam.accounts import SignedInUser


def _both(lattice: WorkerLattice, user_id: uuid.UUID, mark_id: str) -> tuple[MarkOut, MarkOut]:
    with Session(lattice.engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        return load_out(session, user, uuid.UUID(mark_id)), to_out(load(session, user, uuid.UUID(mark_id)))


def test_plain_and_orm_forms_agree(api: httpx.Client, user: SignedInUser, lattice: WorkerLattice) -> None:
    bare = create_mark(api, user.headers, note="only a note")
    full = create_mark(api, user.headers, url="https://example.org/x", title="T", tags=["a", "b"])
    upload(api, user.headers, full["id"], b"bytes", "text/plain")
    with lattice.engine.begin() as connection:
        connection.execute(
            update(Ingestion)
            .where(col(Ingestion.mark_id) == uuid.UUID(full["id"]))
            .values(
                status=IngestionStatus.success,
                ingested_at=datetime.now(UTC),
                normalized_url="https://example.org/x",
                word_count=None,
                title="Page",
                error=None,
            )
        )
    for mark in (bare, full):
        plain, orm = _both(lattice, user.id, mark["id"])
        assert plain == orm
    plain, _ = _both(lattice, user.id, full["id"])
    assert plain.attachment is not None
    assert plain.ingestion.result is not None
    assert plain.ingestion.result.word_count == 0


def test_plain_form_hides_another_users_mark(
    api: httpx.Client, user: SignedInUser, lattice: WorkerLattice
) -> None:
    mark = create_mark(api, user.headers, note="mine")
    other = lattice.accounts["other"]
    with Session(lattice.engine) as session:
        stranger = session.get(User, other.id)
        assert stranger is not None
        with pytest.raises(Problem) as refused:
            load_out(session, stranger, uuid.UUID(mark["id"]))
    assert refused.value.status == 404


def test_one_statement_form_authenticates_as_authenticate_does(
    api: httpx.Client, user: SignedInUser, lattice: WorkerLattice
) -> None:
    mark = create_mark(api, user.headers, url="https://example.org/one", tags=["t"])
    mark_id = uuid.UUID(mark["id"])
    other = lattice.accounts["other"]
    with Session(lattice.engine) as session:
        owner = session.get(User, user.id)
        assert owner is not None
        expected = load_out(session, owner, mark_id)
        now = datetime.now(UTC)
        assert load_out_for_secret(session, user.session_token, mark_id, now) == expected
        assert user.api_token is not None
        assert load_out_for_secret(session, user.api_token, mark_id, now) == expected
        for secret, status in (
            (None, 401),
            ("rs_not-a-token", 401),
            (other.session_token, 404),  # a valid credential, another user's mark
        ):
            with pytest.raises(Problem) as refused:
                load_out_for_secret(session, secret, mark_id, now)
            assert refused.value.status == status, secret
        with pytest.raises(Problem) as gone:
            load_out_for_secret(session, user.session_token, uuid.uuid4(), now)
        assert gone.value.status == 404


def test_one_statement_form_refuses_a_revoked_token(
    api: httpx.Client, user: SignedInUser, lattice: WorkerLattice
) -> None:
    mark = create_mark(api, user.headers, note="n")
    assert user.api_token_id is not None
    with lattice.engine.begin() as connection:
        connection.execute(
            update(Token).where(col(Token.id) == user.api_token_id).values(revoked_at=datetime.now(UTC))
        )
    with Session(lattice.engine) as session, pytest.raises(Problem) as refused:
        load_out_for_secret(session, user.api_token, uuid.UUID(mark["id"]), datetime.now(UTC))
    assert refused.value.status == 401


def test_each_mark_in_a_list_and_a_get_shows_its_own_attachment(
    api: httpx.Client, user: SignedInUser
) -> None:
    # Two marks with different bytes: a join that paired a mark with another's attachment (or with every
    # one) would show the wrong size and digest, or the same mark twice.
    first = create_mark(api, user.headers, note="first")
    second = create_mark(api, user.headers, note="second")
    upload(api, user.headers, first["id"], b"one", "text/plain")
    upload(api, user.headers, second["id"], b"three bytes", "text/plain")
    listed = api.get("/v1/marks", headers=user.headers).json()["items"]
    assert sorted(m["id"] for m in listed) == sorted([first["id"], second["id"]])
    sizes = {m["id"]: m["attachment"]["size"] for m in listed}
    assert sizes == {first["id"]: 3, second["id"]: 11}
    for mark_id, size in sizes.items():
        got = api.get(f"/v1/marks/{mark_id}", headers=user.headers).json()
        assert got["attachment"]["size"] == size
